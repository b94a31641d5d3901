/** Starts the background reservation of the arena (prefault_worker.ts) and logs how it went. */
import { Worker } from 'node:worker_threads';
import { formatBytes, type Logger } from '@rayts/common';
import type { PageMode } from '@rayts/object-store';

/** What the raylet's log says of each page mode (docs/performance.md "First touch and huge pages"). */
export const PAGE_MODE_LINES: Record<PageMode, string> = {
  hugetlb: 'hugetlb (reserved 2 MiB huge pages): every process writes new objects at memory speed',
  thp: 'thp (transparent huge pages of shared memory): every process writes new objects at memory speed',
  '4k': '4k (ordinary 4 KiB pages): a process\'s first write to each page of the store is slow on VMs; ' +
    'reserve huge pages (docs/operations.md "Huge pages") for large objects at memory speed',
};

/** What the thread reserves: the arena as the raylet mapped it. */
export interface PrefaultTarget {
  path: string;
  size: number;
  segmentSize: number;
  pageMode: PageMode;
}

export function prefaultInBackground(target: PrefaultTarget, logger: Logger, onDone: () => void = () => undefined): Worker {
  const { size } = target;
  const worker = new Worker(new URL('./prefault_worker.js', import.meta.url), { workerData: target });
  worker.once('message', (m: { ms: number; error?: string }) => {
    if (m.error) logger.warn(`could not reserve the ${formatBytes(size)} object store up front; pages are allocated as objects arrive`, { error: m.error });
    else logger.info('object store memory reserved', { bytes: size, ms: Math.round(m.ms), pageMode: target.pageMode });
    onDone();
  });
  worker.once('error', (err) => logger.warn('object store prefault thread failed', { err }));
  worker.unref();
  return worker;
}
