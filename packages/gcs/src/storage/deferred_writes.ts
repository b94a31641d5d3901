/**
 * The head's own changes on a full state disk (issue 16). A change a request asked for and could not
 * write is answered with RESOURCE_EXHAUSTED (disk_full.ts); the changes the head makes by itself (a
 * node declared dead by the health checker, actors moved on when their worker or node died, a
 * placement group's bundles sent back to placement, a job ended with its driver) have nobody to
 * answer: a StateDiskFullError thrown from a timer or an event callback would kill the head, and
 * kill it again after every restart.
 *
 * Such a change runs through `run`. It writes first and changes memory only once written, so when
 * the write fails nothing changed; it is then kept and run again every retry period until it goes
 * through, so the head converges once space is freed. The head logs one line per log interval
 * saying what it could not record and where to free space, and one line once everything kept is
 * recorded. Only StateDiskFullError is kept: any other error propagates as before.
 */
import type { Logger } from '@rayts/common';
import { StateDiskFullError } from '../errors.js';

export interface DeferredWritesOptions {
  logger: Logger;
  /** How often the kept changes are run again. */
  retryMs: number;
  /** At most one "cannot record" line per this interval. */
  logIntervalMs: number;
  now?: () => number;
}

export class DeferredWrites {
  /** Kept changes by what they record, oldest first. */
  private readonly kept = new Map<string, () => void>();
  private timer?: NodeJS.Timeout;
  private lastLogMs = Number.NEGATIVE_INFINITY;
  private notLogged = 0;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: DeferredWritesOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Runs `change` now: true when it went through. On a full state disk it is kept under `what` (a
   * newer change for the same `what` replaces it) and run again later: false then. `change` must
   * check that it still applies when it runs again (it is a no-op otherwise).
   */
  run(what: string, change: () => void): boolean {
    try {
      change();
      return true;
    } catch (err) {
      if (!(err instanceof StateDiskFullError)) throw err;
      this.kept.delete(what);
      this.kept.set(what, change);
      this.report(what, err);
      this.arm();
      return false;
    }
  }

  /** How many changes wait for room on the disk. */
  get waiting(): number {
    return this.kept.size;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retry();
    }, this.options.retryMs);
    this.timer.unref();
  }

  private retry(): void {
    for (const [what, change] of [...this.kept]) {
      if (this.kept.get(what) !== change) continue; // replaced by a newer change meanwhile
      try {
        change();
      } catch (err) {
        if (!(err instanceof StateDiskFullError)) {
          this.kept.delete(what);
          throw err;
        }
        this.report(what, err);
        continue;
      }
      if (this.kept.get(what) === change) this.kept.delete(what);
    }
    if (this.kept.size > 0) {
      this.arm();
    } else if (this.lastLogMs > Number.NEGATIVE_INFINITY) {
      this.options.logger.info('the head writes its state again: every change it could not record is recorded now');
      this.lastLogMs = Number.NEGATIVE_INFINITY;
      this.notLogged = 0;
    }
  }

  private report(what: string, err: StateDiskFullError): void {
    const now = this.now();
    if (now - this.lastLogMs < this.options.logIntervalMs) {
      this.notLogged += 1;
      return;
    }
    this.lastLogMs = now;
    this.options.logger.error(`cannot record ${what}: ${err.message}; ${err.hint ?? ''}; it is tried again every ${this.options.retryMs} ms`, {
      waiting: this.kept.size, notLogged: this.notLogged,
    });
    this.notLogged = 0;
  }
}
