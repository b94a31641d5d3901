/**
 * What ran on this node without passing through the raylet, for the task counters: calls on actors
 * (from callers on this node) and tasks owners pushed to workers leased to them. Each such worker
 * counts them in a file of its own (see core-worker actor/call_counts.ts); one instance per kind. The totals are what the live workers' files say plus what the files of
 * exited workers said last; a worker's file is read a final time and removed when the worker exited,
 * and the calls it had started but not ended then count as failed. So every call counts once, even
 * when its worker was killed.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readCallCounts } from '@rayts/core-worker';

export interface DirectCallTotals {
  finished: number;
  failed: number;
}

export class DirectCallCounts {
  /** Workers hosting (or constructing) an actor, with their counts file. */
  private readonly live = new Map<string, string>();
  private readonly retired: DirectCallTotals = { finished: 0, failed: 0 };

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The file the worker is told to count its calls in. */
  pathFor(workerId: string): string {
    const path = join(this.dir, workerId);
    this.live.set(workerId, path);
    return path;
  }

  /** The worker exited: its final counts join the totals (calls cut short as failed); the file goes. */
  retire(workerId: string): void {
    const path = this.live.get(workerId);
    if (!path) return;
    this.live.delete(workerId);
    const c = readCallCounts(path);
    this.retired.finished += c.finished;
    this.retired.failed += c.failed + Math.max(0, c.started - c.finished - c.failed);
    rmSync(path, { force: true });
  }

  /** Calls that ended on this node so far (a running call counts once it ends). */
  totals(): DirectCallTotals {
    const out = { ...this.retired };
    for (const path of this.live.values()) {
      const c = readCallCounts(path);
      out.finished += c.finished;
      out.failed += c.failed;
    }
    return out;
  }
}
