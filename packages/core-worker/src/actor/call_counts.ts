/**
 * How many calls an actor worker started and ended, kept in a small file its raylet reads. Calls from
 * callers on the same node go straight to the actor's socket, so the raylet never sees them; a
 * message per call would wake the raylet for every call, and counts held in the worker would die
 * with it (actors are killed with SIGKILL). Two positional writes of 24 bytes per call (start, end)
 * cost a few microseconds, and what they wrote stays in the page cache when the process is killed:
 * the raylet reads the file when it scrapes metrics and once more after the worker exited, so each
 * call counts once.
 *
 * Layout: three little-endian float64 (exact integers up to 2^53): started, finished, failed.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export const CALL_COUNTS_BYTES = 24;

export interface CallCounts {
  started: number;
  finished: number;
  failed: number;
}

/** What the actor host reports: a call began, a call ended (with or without a failure). */
export interface CallCounter {
  started(): void;
  ended(failed: boolean): void;
}

/** The worker's side: owns the file and rewrites it after every change. */
export class CallCountsFile implements CallCounter {
  private readonly buf = Buffer.alloc(CALL_COUNTS_BYTES);
  private readonly counts: CallCounts = { started: 0, finished: 0, failed: 0 };
  private fd: number | undefined;

  constructor(path: string) {
    this.fd = openSync(path, 'w', 0o600);
    this.flush();
  }

  started(): void {
    this.counts.started += 1;
    this.flush();
  }

  ended(failed: boolean): void {
    if (failed) this.counts.failed += 1;
    else this.counts.finished += 1;
    this.flush();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private flush(): void {
    if (this.fd === undefined) return;
    this.buf.writeDoubleLE(this.counts.started, 0);
    this.buf.writeDoubleLE(this.counts.finished, 8);
    this.buf.writeDoubleLE(this.counts.failed, 16);
    try {
      writeSync(this.fd, this.buf, 0, CALL_COUNTS_BYTES, 0);
    } catch (err) {
      // Counting must never break the actor's calls: it stops, and says so once.
      process.stderr.write(`rayts: stopped counting this actor's calls: ${(err as Error).message}\n`);
      this.close();
    }
  }
}

/** The worker's counter for `path`; one that cannot be opened leaves the calls uncounted (said on stderr). */
export function openCallCountsFile(path: string): CallCounter {
  try {
    return new CallCountsFile(path);
  } catch (err) {
    process.stderr.write(`rayts: cannot count this actor's calls in ${path}: ${(err as Error).message}\n`);
    return noCallCounter;
  }
}

/** The raylet's side: the counts in the file, zeros when it does not exist (yet) or is short. */
export function readCallCounts(path: string): CallCounts {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return { started: 0, finished: 0, failed: 0 };
  }
  if (buf.length < CALL_COUNTS_BYTES) return { started: 0, finished: 0, failed: 0 };
  return { started: buf.readDoubleLE(0), finished: buf.readDoubleLE(8), failed: buf.readDoubleLE(16) };
}

/** A counter that counts nothing (a worker told no file). */
export const noCallCounter: CallCounter = { started() {}, ended() {} };
