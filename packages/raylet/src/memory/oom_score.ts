/**
 * Makes the kernel's OOM killer prefer workers to the raylet (Ray's worker_oom_score_adjustment):
 * each worker's /proc/<pid>/oom_score_adj is set right after the fork. Raising a process's own
 * child's score needs no privilege on Linux; where it is refused anyway (a locked-down container),
 * the raylet says so once and carries on: the memory monitor still acts before the kernel does.
 */
import { writeFileSync } from 'node:fs';
import type { Logger } from '@rayts/common';

export type WriteFile = (path: string, text: string) => void;

export class OomScoreAdjuster {
  private failureLogged = false;

  constructor(
    /** -1000..1000; 0 leaves workers as the kernel scores them. */
    private readonly adjustment: number,
    private readonly logger: Logger,
    private readonly write: WriteFile = (path, text) => writeFileSync(path, text),
  ) {}

  adjust(pid: number): void {
    if (this.adjustment === 0) return;
    try {
      this.write(`/proc/${pid}/oom_score_adj`, String(this.adjustment));
    } catch (err) {
      if (this.failureLogged) return;
      this.failureLogged = true;
      this.logger.warn('cannot set oom_score_adj of workers; the kernel may pick the raylet first when the node runs out of memory (logged once)', {
        pid, adjustment: this.adjustment, error: (err as Error).message,
      });
    }
  }
}
