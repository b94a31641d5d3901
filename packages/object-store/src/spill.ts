/**
 * Spill files: objects written out of the arena to a directory on disk, several small objects fused
 * into one file. A file is deleted as soon as none of its objects is referenced any more, and no
 * file is left behind by a spill that failed half way.
 *
 * Writes and reads go straight between the arena's shared memory and the file (writev/read on the
 * libuv thread pool, no intermediate buffers, no JS worker threads), one writev per file, large reads
 * split in parallel preads. No fsync: like Ray's, spill files need not survive a crash of the node
 * (its objects die with it), so they are left to the page cache and the kernel's writeback.
 */
import { mkdirSync, statfsSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { OutOfDiskError, RaytsError, TUNABLES, formatBytes } from '@rayts/common';
import { SpillFileDamagedError } from './errors.js';

export interface SpillFile {
  readonly path: string;
  readonly size: number;
  /** Objects in this file that are still referenced. */
  live: number;
}

export interface SpillLocation {
  readonly file: SpillFile;
  readonly offset: number;
  readonly size: number;
}

export interface SpillManagerOptions {
  /** Spilling fails with OutOfDiskError when it would push the filesystem's use above this share. */
  diskCapacityThreshold?: number;
}

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
/** Restores read in pieces of this size, this many at once (the libuv pool has 4 threads by default). */
const READ_CHUNK_BYTES = 16 * 1024 * 1024;
const READ_PARALLEL = 3;

export class SpillManager {
  readonly diskCapacityThreshold: number;
  private readonly files = new Set<SpillFile>();
  private seq = 0;
  private dirReady = false;

  constructor(readonly dir: string, opts: SpillManagerOptions = {}) {
    this.diskCapacityThreshold = opts.diskCapacityThreshold ?? TUNABLES.localFsCapacityThreshold.default;
  }

  /** Files on disk and the bytes they hold (including dead parts of partly freed fused files). */
  get fileCount(): number {
    return this.files.size;
  }

  get diskBytes(): number {
    let n = 0;
    for (const f of this.files) n += f.size;
    return n;
  }

  private ensureDir(): void {
    if (this.dirReady) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.dirReady = true;
  }

  /** Throws OutOfDiskError when writing `bytes` would take the filesystem above the threshold. */
  checkDisk(bytes: number): void {
    this.ensureDir();
    if (this.diskCapacityThreshold >= 1) return;
    const s = statfsSync(this.dir);
    const total = Number(s.blocks) * Number(s.bsize);
    const avail = Number(s.bavail) * Number(s.bsize);
    if (total <= 0) return;
    const usedAfter = total - avail + bytes;
    if (usedAfter > this.diskCapacityThreshold * total) {
      throw new OutOfDiskError(
        `Local disk is full: spilling ${formatBytes(bytes)} to ${this.dir} would take its filesystem to ` +
          `${((100 * usedAfter) / total).toFixed(1)}% used (${formatBytes(avail)} free of ${formatBytes(total)}), ` +
          `over the ${(this.diskCapacityThreshold * 100).toFixed(0)}% limit; the object cannot be created because ` +
          'the object store is full and objects cannot be spilled.',
        'free disk space there, point --object-spilling-directory at a bigger filesystem, or free objects (`rayts memory` lists them)',
      );
    }
  }

  /**
   * Writes `parts` back to back into a new file. Returns the file (live = parts.length) and each
   * part's offset in it. On any failure the file is removed and the error is thrown (a full disk
   * becomes OutOfDiskError).
   */
  async write(parts: readonly Uint8Array[]): Promise<{ file: SpillFile; offsets: number[] }> {
    this.ensureDir();
    const path = join(this.dir, `rayts-spill-${process.pid}-${++this.seq}-${parts.length}.bin`);
    const offsets: number[] = [];
    let total = 0;
    for (const p of parts) {
      offsets.push(total);
      total += p.byteLength;
    }
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, 'wx', 0o600);
      await writeAll(fh, parts.filter((p) => p.byteLength > 0), total);
      await fh.close();
      fh = undefined;
    } catch (err) {
      if (fh) await fh.close().catch(() => undefined);
      try {
        unlinkSync(path);
      } catch {
        /* not created */
      }
      const e = err as NodeJS.ErrnoException;
      if (e.code && DISK_FULL_CODES.has(e.code)) {
        throw new OutOfDiskError(
          `Local disk is full: writing ${formatBytes(total)} of spilled objects to ${this.dir} failed (${e.code})`,
          'free disk space there or point --object-spilling-directory at a bigger filesystem',
        );
      }
      throw err;
    }
    const file: SpillFile = { path, size: total, live: parts.length };
    this.files.add(file);
    return { file, offsets };
  }

  /**
   * Reads a spilled object into `into` (exactly loc.size bytes). A file that is gone, has another
   * size than was written (truncated, overwritten, appended to) or fails to read throws
   * SpillFileDamagedError: its bytes cannot be trusted, so nothing is returned from it.
   */
  async read(loc: SpillLocation, into: Uint8Array): Promise<void> {
    if (into.byteLength !== loc.size) throw new RangeError('restore target has the wrong size');
    if (!this.files.has(loc.file)) throw new RaytsError(`spill file ${loc.file.path} was already deleted`);
    const path = loc.file.path;
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new SpillFileDamagedError(path, e.code === 'ENOENT' ? 'is missing (deleted from outside rayts)' : `cannot be opened (${e.code ?? e.message})`);
    }
    try {
      // The size check is one fstat: it catches truncation anywhere in a fused file, where a read of
      // an earlier object would otherwise succeed over a file someone damaged.
      const { size } = await fh.stat();
      if (size !== loc.file.size) {
        throw new SpillFileDamagedError(path, `is ${size} bytes but ${loc.file.size} were written (truncated or overwritten)`);
      }
      await readParallel(fh, into, loc.offset, () => new SpillFileDamagedError(path, `ended early (needed ${loc.size} bytes at ${loc.offset})`));
    } catch (err) {
      if (err instanceof SpillFileDamagedError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new SpillFileDamagedError(path, `cannot be read (${e.code ?? e.message})`);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** One object in `file` is no longer referenced; the file goes when none is. */
  release(file: SpillFile): void {
    if (!this.files.has(file)) return;
    file.live -= 1;
    if (file.live <= 0) this.removeFile(file);
  }

  /** Deletes every spill file this manager wrote. */
  removeAll(): void {
    for (const f of [...this.files]) this.removeFile(f);
  }

  private removeFile(file: SpillFile): void {
    this.files.delete(file);
    try {
      unlinkSync(file.path);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Reads `into.byteLength` bytes at `position`: large objects in READ_CHUNK_BYTES pieces, READ_PARALLEL
 * at a time (on the libuv thread pool), so a read from the page cache uses more than one core.
 */
async function readParallel(fh: FileHandle, into: Uint8Array, position: number, early: () => Error): Promise<void> {
  const size = into.byteLength;
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < size && !failed) {
      const start = next;
      const end = Math.min(size, start + READ_CHUNK_BYTES);
      next = end;
      for (let at = start; at < end;) {
        const { bytesRead } = await fh.read(into, at, end - at, position + at);
        if (bytesRead === 0) throw early();
        at += bytesRead;
      }
    }
  };
  // Every read has ended before this returns or throws: the caller may free `into` on an error.
  const results = await Promise.allSettled(Array.from({ length: Math.min(READ_PARALLEL, Math.ceil(size / READ_CHUNK_BYTES)) }, () =>
    worker().catch((err: unknown) => {
      failed = true;
      throw err;
    })));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** writev of all parts, following partial writes (the kernel caps one write near 2 GiB). */
async function writeAll(fh: FileHandle, parts: Uint8Array[], total: number): Promise<void> {
  let position = 0;
  let queue = parts;
  while (position < total) {
    const { bytesWritten } = await fh.writev(queue, position);
    if (bytesWritten <= 0) throw Object.assign(new Error('short write to spill file'), { code: 'EIO' });
    position += bytesWritten;
    if (position >= total) break;
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const p of queue) {
      if (skip >= p.byteLength) {
        skip -= p.byteLength;
        continue;
      }
      rest.push(skip > 0 ? p.subarray(skip) : p);
      skip = 0;
    }
    queue = rest;
  }
}
