/**
 * Where a worker's stdout and stderr log files end, so that each attempt can report the byte range
 * of its output (Ray's stdout_start/stdout_end …) without a system call per task.
 *
 * How exact: the raylet opens the files for the worker (O_APPEND) and Node writes to a file stream
 * synchronously, so a byte written through process.stdout/process.stderr (console.*) is in the file
 * when write() returns. The worker reads the sizes once (fstat) and then counts what passes through
 * those streams: offsets are exact for everything the worker's JavaScript prints. Bytes written to the
 * files another way (a child process sharing the worker's stdout, fs.writeSync(1, …)) are not seen by
 * the count; `refresh` re-reads the sizes when RESYNC_MS passed since the last read, which attempts do
 * at their start and end. So an attempt that runs RESYNC_MS or longer has an exact end offset, and a
 * start offset misses at most such foreign output written in the RESYNC_MS before it started (which
 * then falls inside its range). Calls of an actor that run concurrently share the files: their
 * ranges overlap and hold each other's output.
 */
import { fstatSync } from 'node:fs';

export type OutputStream = 'stdout' | 'stderr';

/** Sizes of the files behind this process's stdout and stderr. */
export interface FileSizes {
  /** The file's size, or undefined when the stream is not a regular file (a pipe, a terminal). */
  size(stream: OutputStream): number | undefined;
}

/** The real stdout (fd 1) and stderr (fd 2) of this process. */
export const processFileSizes: FileSizes = {
  size(stream) {
    try {
      const st = fstatSync(stream === 'stdout' ? 1 : 2);
      return st.isFile() ? st.size : undefined;
    } catch {
      return undefined;
    }
  },
};

/** Re-read the real sizes at most this often (an fstat costs 1–2 µs; tasks can be 100 µs). */
export const RESYNC_MS = 10;

export class OutputOffsets {
  /** Offset of the end of the stdout file now; -1 when stdout is not a file. */
  stdout = -1;
  stderr = -1;
  private syncedAt = -Infinity;

  constructor(private readonly files: FileSizes, private readonly resyncMs = RESYNC_MS) {
    this.refresh(Date.now());
  }

  /** `bytes` went to `stream` (counted by the write hook of TaskOutput). */
  written(stream: OutputStream, bytes: number): void {
    if (stream === 'stdout') {
      if (this.stdout >= 0) this.stdout += bytes;
    } else if (this.stderr >= 0) {
      this.stderr += bytes;
    }
  }

  /** Re-reads the sizes when `resyncMs` passed since the last read (see above). */
  refresh(nowMs: number): void {
    if (nowMs - this.syncedAt < this.resyncMs) return;
    this.syncedAt = nowMs;
    this.stdout = this.files.size('stdout') ?? -1;
    this.stderr = this.files.size('stderr') ?? -1;
  }
}
