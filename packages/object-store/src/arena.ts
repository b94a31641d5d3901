/**
 * The arena: one shared-memory file per node, mapped by the raylet and by every worker.
 *
 * `Arena.create` makes a uniquely named file in `/dev/shm` (or a fallback dir), unlinks it at once
 * (right after open, before it is sized or mapped), sizes it with ftruncate and maps it. The name
 * exists for two consecutive syscalls, so nothing is left in /dev/shm even when the process is
 * SIGKILLed; the memory goes back to the kernel when the last fd and mapping are gone. Other
 * processes of the same user map it through `/proc/<pid>/fd/<fd>` (which opens the unlinked file)
 * or through an inherited fd. A raylet's arena is shared with its owner's group instead
 * (`shareWithGroup`): the file keeps its name, mode 0660, until the raylet closes it.
 *
 * Node 20 caps one ArrayBuffer at `buffer.constants.MAX_LENGTH` (4 GiB), so a bigger arena is mapped
 * as several segments of `segmentSize` bytes; an object never straddles a segment boundary (the
 * allocator is told the boundaries) and `view(offset, length)` picks the right segment.
 */
import { closeSync, constants as fsConstants, fchmodSync, fstatSync, ftruncateSync, openSync, readdirSync, statfsSync, unlinkSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaytsError, formatBytes } from '@rayts/common';
import { adviceConstants, loadNative } from './native.js';
import { choosePageMode, hugetlbSize, readHugePageFacts, type HugePageFacts, type HugePagesSetting, type PageMode } from './page_mode.js';

export const DEFAULT_ARENA_DIR = '/dev/shm';
const FILE_PREFIX = 'rayts-arena-';

export interface ArenaCreateOptions {
  /** Bytes to map. */
  size: number;
  /** Where the file is created (default `/dev/shm`). */
  dir?: string;
  /** Used when `dir` has less free space than `size` (default `os.tmpdir()`), with a warning. */
  fallbackDir?: string;
  /** Reserve (fallocate) and touch every page once now, so no object write pays a first-touch fault. */
  prefault?: boolean;
  /** Largest mapping per ArrayBuffer (default: Node's Buffer limit, 4 GiB on Node 20). */
  segmentSize?: number;
  /**
   * Keep the file's name (mode 0660) until `close()`, so that processes of other users in the
   * creator's group can open it (`/proc/<pid>/fd` of another user's process is closed to them).
   * A SIGKILLed creator leaves the file behind; the next arena created in the dir removes it.
   */
  shareWithGroup?: boolean;
  /** Huge pages (page_mode.ts): auto takes hugetlb, else shmem THP, else 4 KiB pages; off (the default here: the raylet passes its tunable, auto by default) is 4 KiB pages. */
  hugePages?: HugePagesSetting;
  /** What the host allows (default: read from /proc and /sys now). */
  hugePageFacts?: HugePageFacts;
}

export interface ArenaAttachOptions {
  writable?: boolean;
  /** The creator's page mode (its welcome says it): thp mappings ask for huge pages too. */
  pageMode?: PageMode;
  /** MAP_POPULATE: map every page now (cheap minor faults for pages the creator already touched). */
  populate?: boolean;
  segmentSize?: number;
}

export function defaultSegmentSize(): number {
  const page = loadNative().pageSize();
  const limit = Math.min(bufferConstants.MAX_LENGTH, 2 ** 32);
  return Math.floor(limit / page) * page;
}

function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes arena files a dead process left behind in the two-syscall window between open and unlink. */
function sweepStale(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(FILE_PREFIX)) continue;
    const pid = Number(name.slice(FILE_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || pidAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      /* someone else removed it, or it is not ours to remove */
    }
  }
}

/** Ranges below this fault in faster than one madvise call sets up. */
const POPULATE_MIN_BYTES = 4 * 1024 * 1024;

export class Arena {
  /** The mapped segments, in order; segment i covers [i*segmentSize, min(size, (i+1)*segmentSize)). */
  readonly buffers: readonly ArrayBuffer[];
  private closed = false;

  private constructor(
    readonly fd: number,
    readonly size: number,
    readonly segmentSize: number,
    buffers: ArrayBuffer[],
    /** The directory the file was created in (undefined for an attached arena). */
    readonly dir: string | undefined,
    /** Set when the arena fell back from /dev/shm to a disk-backed dir: log it loudly. */
    readonly warning: string | undefined,
    readonly owner: boolean,
    /** What backs the arena: hugetlb pages, shmem THP or 4 KiB pages. */
    readonly pageMode: PageMode,
    /** The file's name while it is shared with the group (`shareWithGroup`). */
    readonly sharedPath?: string,
  ) {
    this.buffers = buffers;
  }

  /** The whole arena when it fits one segment (always, below 4 GiB); else the first segment. */
  get buffer(): ArrayBuffer {
    return this.buffers[0]!;
  }

  /** Another process of the same user opens this path to map the same memory (Linux). */
  get procPath(): string {
    return `/proc/${process.pid}/fd/${this.fd}`;
  }

  /** The path another process opens to map this arena: the shared name, else `procPath`. */
  get attachPath(): string {
    return this.sharedPath ?? this.procPath;
  }

  /** Offsets where a new segment starts (empty below 4 GiB); objects must not cross them. */
  get boundaries(): number[] {
    const out: number[] = [];
    for (let b = this.segmentSize; b < this.size; b += this.segmentSize) out.push(b);
    return out;
  }

  /** A Uint8Array over [offset, offset+length) of the shared memory (no copy). */
  view(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`arena view [${offset}, ${offset}+${length}) is outside the arena of ${this.size} bytes`);
    }
    const seg = Math.min(Math.floor(offset / this.segmentSize), this.buffers.length - 1);
    const local = offset - seg * this.segmentSize;
    if (local + length > this.buffers[seg]!.byteLength) {
      throw new RangeError(`arena view [${offset}, ${offset}+${length}) crosses a segment boundary`);
    }
    return new Uint8Array(this.buffers[seg]!, local, length);
  }

  /** madvise (see `adviceConstants()`) over the pages covering the range. */
  advise(offset: number, length: number, advice: number): void {
    const v = this.view(offset, length);
    loadNative().advise(v.buffer as ArrayBuffer, v.byteOffset, v.byteLength, advice);
  }

  /**
   * Maps the pages of a large range into this process's page table with one madvise
   * (MADV_POPULATE_READ / _WRITE): the pages exist (tmpfs, reserved or written by another process)
   * and one fault per 4 KiB page costs more than the copy that follows. Small ranges, and kernels
   * without the advice (before 5.14), are left to ordinary faults.
   */
  populate(offset: number, length: number, access: 'read' | 'write'): void {
    if (length < POPULATE_MIN_BYTES) return;
    const advice = adviceConstants()[access === 'read' ? 'MADV_POPULATE_READ' : 'MADV_POPULATE_WRITE'];
    if (advice === undefined) return;
    try { this.advise(offset, length, advice); } catch { /* not supported here: plain faults */ }
  }

  /** Writes once to every page, so later writes take no page fault. */
  touch(): void {
    const page = loadNative().pageSize();
    for (const ab of this.buffers) {
      const u = new Uint8Array(ab);
      for (let i = 0; i < u.length; i += page) u[i] = 0;
    }
  }

  /**
   * Closes the fd. The mappings stay valid until their ArrayBuffers are garbage-collected (views
   * never dangle); the memory returns to the kernel after that and after every other process that
   * attached has let go.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    if (this.sharedPath) {
      try { unlinkSync(this.sharedPath); } catch { /* already gone */ }
    }
  }

  static create(opts: ArenaCreateOptions): Arena {
    const { size } = opts;
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`arena size must be a positive integer, got ${size}`);
    const native = loadNative();
    const page = native.pageSize();
    const segmentSize = opts.segmentSize ?? defaultSegmentSize();
    if (segmentSize % page !== 0 || segmentSize <= 0 || segmentSize > bufferConstants.MAX_LENGTH) {
      throw new RangeError(`segmentSize ${segmentSize} must be a positive multiple of the page size (${page}) and at most ${bufferConstants.MAX_LENGTH}`);
    }
    let dir = opts.dir ?? DEFAULT_ARENA_DIR;
    let warning: string | undefined;
    const free = freeBytes(dir);
    if (free === undefined || free < size) {
      const fallback = opts.fallbackDir ?? tmpdir();
      if (fallback !== dir) {
        warning =
          `WARNING: the object store is using ${fallback} instead of ${dir} because ${dir} ` +
          (free === undefined ? 'is not available' : `has only ${free} bytes available (${formatBytes(free)})`) +
          `, and the store needs ${size} bytes (${formatBytes(size)}). This will harm performance! ` +
          `Free up space in ${dir}, or make it bigger (in a container: --shm-size=${((size * 1.1) / 1e9).toFixed(2)}gb), ` +
          'or lower --object-store-memory.';
        dir = fallback;
      }
    }
    const setting = opts.hugePages ?? 'off';
    const facts = opts.hugePageFacts ?? readHugePageFacts();
    let pageMode = choosePageMode(setting, size, facts, !!opts.shareWithGroup);
    if (pageMode === 'hugetlb') {
      const arena = Arena.createHugetlb(size, segmentSize, dir, warning, opts.prefault ?? false);
      if (arena) return arena;
      // Another process took the free pages since they were counted (nodes starting together on
      // one host): the next mode, as if there had been none (with `on`: THP, or the error).
      pageMode = choosePageMode(setting, size, { ...facts, hugetlbFreeBytes: 0 }, !!opts.shareWithGroup);
    }
    sweepStale(dir);
    const path = join(dir, `${FILE_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`);
    const fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    try {
      if (opts.shareWithGroup) fchmodSync(fd, 0o660);
      else unlinkSync(path);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    try {
      ftruncateSync(fd, size);
      // THP: ask for huge pages before anything allocates one (fallocate would allocate small ones).
      const thp = pageMode === 'thp';
      if (opts.prefault && !thp) {
        try {
          native.fallocate(fd, 0, size);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          throw new RaytsError(
            `cannot reserve ${formatBytes(size)} for the object store in ${dir}: ${e.message}`,
            'lower --object-store-memory or free space there',
          );
        }
      }
      const buffers = mapSegments(fd, size, segmentSize, true, (opts.prefault ?? false) && !thp, pageMode);
      const arena = new Arena(fd, size, segmentSize, buffers, dir, warning, true, pageMode, opts.shareWithGroup ? path : undefined);
      if (opts.prefault) arena.touch();
      return arena;
    } catch (err) {
      closeSync(fd);
      if (opts.shareWithGroup) { try { unlinkSync(path); } catch { /* already gone */ } }
      throw err;
    }
  }

  /**
   * An arena of 2 MiB hugetlb pages: an anonymous memfd (nothing to name or sweep in any dir; other
   * processes open it through procPath). The pages were reserved by the administrator
   * (vm.nr_hugepages); mapping the memfd takes them for the whole size at once, so a shortfall
   * fails here and not as a SIGBUS in a later write: undefined then (ENOSPC from fallocate, ENOMEM
   * from mmap), when another process took the pages after they were counted.
   */
  private static createHugetlb(requested: number, segmentSize: number, dir: string, warning: string | undefined, prefault: boolean): Arena | undefined {
    const native = loadNative();
    const size = hugetlbSize(requested);
    const fd = native.memfd(`${FILE_PREFIX}${process.pid}`, true);
    try {
      ftruncateSync(fd, size);
      if (prefault) native.fallocate(fd, 0, size);
      const buffers = mapSegments(fd, size, segmentSize, true, false, 'hugetlb');
      return new Arena(fd, size, segmentSize, buffers, dir, warning, true, 'hugetlb');
    } catch (err) {
      closeSync(fd);
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOSPC' || e.code === 'ENOMEM') return undefined;
      throw new RaytsError(`cannot map ${formatBytes(size)} of huge pages for the object store: ${e.message}`,
        'reserve more (sysctl -w vm.nr_hugepages=N) or start with --object-store-huge-pages=off');
    }
  }

  /**
   * Maps an arena another process created: `pathOrFd` is its `procPath` or an fd this process
   * inherited (the Arena takes ownership of the fd and closes it in `close()`).
   */
  static attach(pathOrFd: string | number, size: number, opts: ArenaAttachOptions = {}): Arena {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`arena size must be a positive integer, got ${size}`);
    const writable = opts.writable ?? true;
    const segmentSize = opts.segmentSize ?? defaultSegmentSize();
    const fd = typeof pathOrFd === 'number' ? pathOrFd : openSync(pathOrFd, writable ? 'r+' : 'r');
    try {
      const actual = fstatSync(fd).size;
      if (actual < size) throw new RangeError(`cannot attach ${size} bytes: the arena file has only ${actual}`);
      const pageMode = opts.pageMode ?? '4k';
      const buffers = mapSegments(fd, size, segmentSize, writable, opts.populate ?? false, pageMode);
      return new Arena(fd, size, segmentSize, buffers, undefined, undefined, false, pageMode);
    } catch (err) {
      if (typeof pathOrFd !== 'number') closeSync(fd);
      throw err;
    }
  }
}

function mapSegments(fd: number, size: number, segmentSize: number, writable: boolean, populate: boolean, pageMode: PageMode): ArrayBuffer[] {
  const native = loadNative();
  const out: ArrayBuffer[] = [];
  for (let start = 0; start < size; start += segmentSize) {
    const ab = native.map(fd, Math.min(segmentSize, size - start), writable, populate, start);
    // shmem THP: a mapping gets huge pages (and maps existing ones whole) only where it asks for them.
    if (pageMode === 'thp') native.advise(ab, 0, ab.byteLength, adviceConstants().MADV_HUGEPAGE!);
    out.push(ab);
  }
  return out;
}
