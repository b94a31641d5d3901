/**
 * Allocator over [0, capacity) for the arena. Offsets and sizes are multiples of 64 bytes (so any
 * typed array can be viewed in place, and no two objects share a cache line).
 *
 * Free blocks are kept in segregated size classes (TLSF-style: a power-of-two first level split into
 * 16 linear second-level classes, with bitmaps to find the first non-empty class in O(1)). A request
 * is rounded up to the next class boundary so that any block of the class found fits ("good fit",
 * at most 1/16 over best fit); if that finds nothing, the request's own class is scanned for a block
 * that fits, so `alloc` fails only when no free block is large enough (`largestFree < n`).
 * Freed blocks merge with free neighbours at once (boundary maps by start and by end), except across
 * `boundaries` (arena segment edges), which no block ever crosses.
 */

export const ALIGNMENT = 64;
const SL_LOG = 4;
const SL_COUNT = 1 << SL_LOG;

function msb(n: number): number {
  // n is a positive integer below 2^53
  if (n < 0x1_0000_0000) return 31 - Math.clz32(n);
  return 32 + 31 - Math.clz32(Math.floor(n / 0x1_0000_0000));
}

/** Size class of a block of `units` 64-byte units: [fl, sl]. */
function mapping(units: number): [number, number] {
  if (units < SL_COUNT) return [0, units];
  const m = msb(units);
  const sl = Math.floor(units / 2 ** (m - SL_LOG)) - SL_COUNT;
  return [m - SL_LOG + 1, sl];
}

export function alignUp(n: number): number {
  return Math.ceil(n / ALIGNMENT) * ALIGNMENT;
}

export interface AllocatorStats {
  capacity: number;
  used: number;
  free: number;
  largestFree: number;
  allocations: number;
  freeBlocks: number;
}

export class Allocator {
  readonly capacity: number;
  private usedBytes = 0;
  /** free block start -> size (bytes) */
  private readonly freeByStart = new Map<number, number>();
  /** free block end -> start */
  private readonly freeByEnd = new Map<number, number>();
  /** allocated start -> size (rounded) */
  private readonly allocated = new Map<number, number>();
  /** classes[fl][sl] = starts of free blocks in that class (insertion order) */
  private readonly classes: Set<number>[][] = [];
  private readonly slBitmap: number[] = [];
  private readonly boundarySet: Set<number>;

  /**
   * @param size bytes to manage (rounded down to 64)
   * @param boundaries offsets no block may cross (multiples of 64, e.g. arena segment starts)
   */
  constructor(size: number, boundaries: readonly number[] = []) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`allocator size must be a non-negative integer, got ${size}`);
    this.capacity = Math.floor(size / ALIGNMENT) * ALIGNMENT;
    const cuts = [...new Set(boundaries)].filter((b) => b > 0 && b < this.capacity).sort((a, b) => a - b);
    for (const b of cuts) if (b % ALIGNMENT !== 0) throw new RangeError(`boundary ${b} is not a multiple of ${ALIGNMENT}`);
    this.boundarySet = new Set(cuts);
    let start = 0;
    for (const end of [...cuts, this.capacity]) {
      if (end > start) this.insertFree(start, end - start);
      start = end;
    }
  }

  get used(): number {
    return this.usedBytes;
  }

  get freeBytes(): number {
    return this.capacity - this.usedBytes;
  }

  get allocations(): number {
    return this.allocated.size;
  }

  /** Size of the biggest free block: `alloc(n)` succeeds exactly when n (rounded to 64) fits it. */
  get largestFree(): number {
    for (let fl = this.slBitmap.length - 1; fl >= 0; fl--) {
      const bits = this.slBitmap[fl]!;
      if (bits === 0) continue;
      const sl = 31 - Math.clz32(bits);
      let best = 0;
      for (const start of this.classes[fl]![sl]!) best = Math.max(best, this.freeByStart.get(start)!);
      return best;
    }
    return 0;
  }

  /** The rounded size of the allocation at `offset`, or undefined. */
  sizeOf(offset: number): number | undefined {
    return this.allocated.get(offset);
  }

  /**
   * Allocates max(n, 1) bytes rounded up to 64; returns a 64-aligned offset, or undefined when no
   * free block is large enough.
   */
  alloc(n: number): number | undefined {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`allocation size must be a non-negative integer, got ${n}`);
    const size = Math.max(ALIGNMENT, alignUp(n));
    if (size > this.capacity) return undefined;
    const units = size / ALIGNMENT;
    let start = this.findGoodFit(units);
    if (start === undefined) start = this.scanOwnClass(units, size);
    if (start === undefined) return undefined;
    const blockSize = this.freeByStart.get(start)!;
    this.removeFree(start, blockSize);
    if (blockSize > size) this.insertFree(start + size, blockSize - size);
    this.allocated.set(start, size);
    this.usedBytes += size;
    return start;
  }

  /** Frees the allocation that starts at `offset` (throws on an unknown offset: a double free). */
  free(offset: number): void {
    const size = this.allocated.get(offset);
    if (size === undefined) throw new Error(`allocator: free of ${offset}, which is not allocated`);
    this.allocated.delete(offset);
    this.usedBytes -= size;
    let start = offset;
    let end = offset + size;
    if (!this.boundarySet.has(start)) {
      const leftStart = this.freeByEnd.get(start);
      if (leftStart !== undefined) {
        this.removeFree(leftStart, start - leftStart);
        start = leftStart;
      }
    }
    if (!this.boundarySet.has(end)) {
      const rightSize = this.freeByStart.get(end);
      if (rightSize !== undefined) {
        this.removeFree(end, rightSize);
        end += rightSize;
      }
    }
    this.insertFree(start, end - start);
  }

  stats(): AllocatorStats {
    return {
      capacity: this.capacity,
      used: this.usedBytes,
      free: this.capacity - this.usedBytes,
      largestFree: this.largestFree,
      allocations: this.allocated.size,
      freeBlocks: this.freeByStart.size,
    };
  }

  /** Free blocks as [start, size], sorted by start (for tests and debugging). */
  freeBlocks(): [number, number][] {
    return [...this.freeByStart.entries()].sort((a, b) => a[0] - b[0]);
  }

  /**
   * Verifies every invariant (for tests): allocations and free blocks tile [0, capacity) exactly,
   * without overlap; all are 64-aligned; no two free blocks touch unless a boundary separates
   * them; no block crosses a boundary; the size-class index matches the free blocks.
   */
  checkInvariants(): void {
    const spans: [number, number, boolean][] = [];
    for (const [s, n] of this.allocated) spans.push([s, n, false]);
    for (const [s, n] of this.freeByStart) spans.push([s, n, true]);
    spans.sort((a, b) => a[0] - b[0]);
    let pos = 0;
    let prevFree = false;
    let used = 0;
    const cuts = [...this.boundarySet];
    for (const [s, n, isFree] of spans) {
      if (s !== pos) throw new Error(`allocator invariant: ${s === undefined ? 'gap' : s < pos ? 'overlap' : 'gap'} at ${pos} (next block at ${s})`);
      if (s % ALIGNMENT !== 0 || n % ALIGNMENT !== 0 || n <= 0) throw new Error(`allocator invariant: misaligned block [${s}, ${n}]`);
      if (isFree && prevFree && !this.boundarySet.has(s)) throw new Error(`allocator invariant: free blocks not coalesced at ${s}`);
      for (const c of cuts) if (c > s && c < s + n) throw new Error(`allocator invariant: block [${s}, ${n}] crosses boundary ${c}`);
      if (isFree) {
        if (this.freeByEnd.get(s + n) !== s) throw new Error(`allocator invariant: end index wrong for ${s}`);
        const [fl, sl] = mapping(n / ALIGNMENT);
        if (!this.classes[fl]?.[sl]?.has(s)) throw new Error(`allocator invariant: block ${s} missing from class ${fl}/${sl}`);
      } else {
        used += n;
      }
      prevFree = isFree;
      pos = s + n;
    }
    if (pos !== this.capacity) throw new Error(`allocator invariant: blocks end at ${pos}, capacity ${this.capacity}`);
    if (used !== this.usedBytes) throw new Error(`allocator invariant: used ${this.usedBytes} but allocations sum to ${used}`);
    if (this.freeByEnd.size !== this.freeByStart.size) throw new Error('allocator invariant: start/end index sizes differ');
    let indexed = 0;
    for (let fl = 0; fl < this.classes.length; fl++) {
      let bits = 0;
      for (let sl = 0; sl < SL_COUNT; sl++) {
        const set = this.classes[fl]![sl]!;
        indexed += set.size;
        if (set.size > 0) bits |= 1 << sl;
      }
      if (bits !== (this.slBitmap[fl] ?? 0)) throw new Error(`allocator invariant: bitmap of level ${fl} is stale`);
    }
    if (indexed !== this.freeByStart.size) throw new Error('allocator invariant: class index holds stale blocks');
  }

  // --- internals ---------------------------------------------------------------------------------

  private classSet(fl: number, sl: number): Set<number> {
    while (this.classes.length <= fl) {
      const row: Set<number>[] = [];
      for (let i = 0; i < SL_COUNT; i++) row.push(new Set());
      this.classes.push(row);
      this.slBitmap.push(0);
    }
    return this.classes[fl]![sl]!;
  }

  private insertFree(start: number, size: number): void {
    this.freeByStart.set(start, size);
    this.freeByEnd.set(start + size, start);
    const [fl, sl] = mapping(size / ALIGNMENT);
    this.classSet(fl, sl).add(start);
    this.slBitmap[fl]! |= 1 << sl;
  }

  private removeFree(start: number, size: number): void {
    this.freeByStart.delete(start);
    this.freeByEnd.delete(start + size);
    const [fl, sl] = mapping(size / ALIGNMENT);
    const set = this.classes[fl]![sl]!;
    set.delete(start);
    if (set.size === 0) this.slBitmap[fl]! &= ~(1 << sl);
  }

  /** First block in the first non-empty class whose every block is >= units. */
  private findGoodFit(units: number): number | undefined {
    let r = units;
    if (r >= SL_COUNT) r += 2 ** (msb(r) - SL_LOG) - 1; // round up to the next class start
    let [fl, sl] = mapping(r);
    for (; fl < this.slBitmap.length; fl++, sl = 0) {
      const bits = this.slBitmap[fl]! & (~0 << sl);
      if (bits === 0) continue;
      const found = Math.clz32(bits & -bits) ^ 31; // lowest set bit
      const set = this.classes[fl]![found]!;
      return set.values().next().value;
    }
    return undefined;
  }

  /** The request's own class may hold blocks both smaller and larger than it: look for one that fits. */
  private scanOwnClass(units: number, size: number): number | undefined {
    const [fl, sl] = mapping(units);
    const set = this.classes[fl]?.[sl];
    if (!set) return undefined;
    let best: number | undefined;
    let bestSize = Infinity;
    for (const start of set) {
      const n = this.freeByStart.get(start)!;
      if (n >= size && n < bestSize) {
        best = start;
        bestSize = n;
        if (n === size) break;
      }
    }
    return best;
  }
}
