/** Starts the background reservation of the arena (prefault_worker.ts) and logs how it went. */
import { Worker } from 'node:worker_threads';
import { formatBytes, type Logger } from '@rayts/common';

export function prefaultInBackground(procPath: string, size: number, logger: Logger, onDone: () => void = () => undefined): Worker {
  const worker = new Worker(new URL('./prefault_worker.js', import.meta.url), { workerData: { path: procPath, size } });
  worker.once('message', (m: { ms: number; error?: string }) => {
    if (m.error) logger.warn(`could not reserve the ${formatBytes(size)} object store up front; pages are allocated as objects arrive`, { error: m.error });
    else logger.info('object store memory reserved', { bytes: size, ms: Math.round(m.ms) });
    onDone();
  });
  worker.once('error', (err) => logger.warn('object store prefault thread failed', { err }));
  worker.unref();
  return worker;
}
