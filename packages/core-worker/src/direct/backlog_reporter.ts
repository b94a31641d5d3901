/**
 * Tells the raylet how many tasks of each scheduling key the owner holds back beyond its lease
 * requests (Ray's worker backlog), so `rayts status` and the head's demands count every waiting task.
 * Changes are sent at most every 100 ms (they only feed the demands); the raylet keeps the latest.
 */
import type { LeaseBacklog, TaskSpec } from '../protocol/messages.js';

/** A key as the reporter reads it. */
export interface BacklogKey {
  readonly key: string;
  readonly resources: TaskSpec['resources'];
  readonly queue: { readonly length: number };
  readonly requests: { readonly size: number };
}

const REPORT_MS = 100;

/** Tasks of the key waiting beyond the lease requests. */
function backlogOf(k: BacklogKey): number {
  return Math.max(0, k.queue.length - k.requests.size);
}

export class BacklogReporter {
  /** What the raylet was told, by key (absent: 0). */
  private readonly told = new Map<string, number>();
  private readonly changed = new Set<BacklogKey>();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly send: (message: LeaseBacklog) => void) {}

  /** The key's backlog may have changed: the raylet hears of it soon if it did. */
  update(k: BacklogKey): void {
    if (this.closed || backlogOf(k) === (this.told.get(k.key) ?? 0)) return;
    this.changed.add(k);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), REPORT_MS);
    this.timer.unref();
  }

  /** The raylet counts tasks of this key that it has not been told are gone. */
  outstanding(k: BacklogKey): boolean {
    return this.told.has(k.key);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private flush(): void {
    this.timer = undefined;
    for (const k of this.changed) {
      const size = backlogOf(k);
      if (size === (this.told.get(k.key) ?? 0)) continue;
      if (size === 0) this.told.delete(k.key);
      else this.told.set(k.key, size);
      this.send({ type: 'leaseBacklog', key: k.key, resources: k.resources, size });
    }
    this.changed.clear();
  }
}
