/**
 * How many calls (or tasks) a worker started and ended, kept in a small file its raylet reads. Calls
 * from callers on the same node go straight to the actor's socket, and tasks owners push to a leased
 * worker straight to its socket, so the raylet never sees them; a message per call would wake the
 * raylet for every call, and counts held in the worker would die with it (workers are killed with
 * SIGKILL). The worker maps the file shared and counts in the mapping: no system call per count
 * (two positional writes per call cost 18 µs on the 2-vCPU VM, 7 % of a leased worker's time), and
 * what it wrote is in the page cache, so it stays when the process is killed. The raylet reads the
 * file when it scrapes metrics and once more after the worker exited, so each call counts once.
 *
 * Layout: three little-endian float64 (exact integers up to 2^53): started, finished, failed.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { NativeShm } from '@rayts/object-store';

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

/** The worker's side: the file, created with zeros and mapped shared; counts go into the mapping. */
export class CallCountsFile implements CallCounter {
  /** started, finished, failed (little-endian: this runs on Linux x64 and arm64 only). */
  private readonly counts: Float64Array;

  constructor(path: string, shm: Pick<NativeShm, 'map'>) {
    const fd = openSync(path, 'w+', 0o600);
    try {
      writeSync(fd, Buffer.alloc(CALL_COUNTS_BYTES), 0, CALL_COUNTS_BYTES, 0);
      this.counts = new Float64Array(shm.map(fd, CALL_COUNTS_BYTES, true, false), 0, 3);
    } finally {
      closeSync(fd); // the mapping stays
    }
  }

  started(): void {
    this.counts[0]! += 1;
  }

  ended(failed: boolean): void {
    this.counts[failed ? 2 : 1]! += 1;
  }
}

/** The worker's counter for `path`; one that cannot be opened leaves the calls uncounted (said on stderr). */
export function openCallCountsFile(path: string, shm: Pick<NativeShm, 'map'>): CallCounter {
  try {
    return new CallCountsFile(path, shm);
  } catch (err) {
    process.stderr.write(`rayts: cannot count the calls or tasks this worker runs in ${path}: ${(err as Error).message}\n`);
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
