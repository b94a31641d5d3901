import { describe, expect, it } from 'vitest';
import { Allocator, ALIGNMENT } from './allocator.js';

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Independent check: live allocations never overlap and stay inside [0, capacity). */
function checkNoOverlap(a: Allocator, live: Map<number, number>): void {
  const spans = [...live.entries()].map(([o, n]) => [o, a.sizeOf(o)!, n] as const).sort((x, y) => x[0] - y[0]);
  let end = 0;
  let used = 0;
  for (const [o, rounded, asked] of spans) {
    if (o % ALIGNMENT !== 0) throw new Error(`offset ${o} is not 64-aligned`);
    if (rounded < Math.max(asked, 1)) throw new Error(`allocation at ${o} is smaller than asked`);
    if (o < end) throw new Error(`allocation at ${o} overlaps the previous one (ends at ${end})`);
    end = o + rounded;
    used += rounded;
  }
  expect(end).toBeLessThanOrEqual(a.capacity);
  expect(a.used).toBe(used);
  const freeSum = a.freeBlocks().reduce((s, [, n]) => s + n, 0);
  expect(freeSum + a.used).toBe(a.capacity);
}

describe('Allocator', () => {
  it('hands out 64-byte aligned offsets and rounds sizes up to 64 (at least 64, also for size 0)', () => {
    const a = new Allocator(64 * 100);
    const sizes = [0, 1, 7, 63, 64, 65, 100, 127, 128, 129, 1000];
    const offs = sizes.map((n) => a.alloc(n)!);
    for (const [i, o] of offs.entries()) {
      expect(o % 64).toBe(0);
      expect(a.sizeOf(o)).toBe(Math.max(64, Math.ceil(sizes[i]! / 64) * 64));
    }
    expect(new Set(offs).size).toBe(offs.length);
    a.checkInvariants();
  });

  it('rounds the capacity down to 64 and fails exactly when nothing fits', () => {
    const a = new Allocator(64 * 10 + 17);
    expect(a.capacity).toBe(640);
    for (let i = 0; i < 10; i++) expect(a.alloc(1)).toBe(i * 64);
    expect(a.alloc(1)).toBeUndefined();
    expect(a.largestFree).toBe(0);
    expect(a.alloc(641)).toBeUndefined();
    a.checkInvariants();
  });

  it('coalesces with both neighbours and ends as one free block', () => {
    const a = new Allocator(64 * 8);
    const [x, y, z, w] = [a.alloc(64)!, a.alloc(128)!, a.alloc(64)!, a.alloc(64)!];
    a.free(y);
    a.checkInvariants();
    expect(a.freeBlocks()).toEqual([[64, 128], [320, 192]]);
    a.free(w);
    expect(a.freeBlocks()).toEqual([[64, 128], [256, 256]]);
    a.free(x);
    expect(a.freeBlocks()).toEqual([[0, 192], [256, 256]]);
    a.free(z); // merges left and right
    expect(a.freeBlocks()).toEqual([[0, 512]]);
    expect(a.used).toBe(0);
    a.checkInvariants();
  });

  it('refuses a double free and a free of an unknown offset', () => {
    const a = new Allocator(4096);
    const o = a.alloc(100)!;
    a.free(o);
    expect(() => a.free(o)).toThrow(/not allocated/);
    expect(() => a.free(64)).toThrow(/not allocated/);
  });

  it('finds a block that fits even when it is in the same size class as the request', () => {
    // One free block of 17 units, request of 17 units: rounding up to the next class would miss it.
    const a = new Allocator(64 * 40);
    const big = a.alloc(64 * 17)!;
    a.alloc(64 * 23);
    a.free(big);
    expect(a.largestFree).toBe(64 * 17);
    expect(a.alloc(64 * 17)).toBe(big);
    a.checkInvariants();
  });

  it('alloc(largestFree) always succeeds and alloc(largestFree + 64) never does (random states)', () => {
    const r = rng(7);
    const a = new Allocator(1 << 20);
    const live: number[] = [];
    for (let step = 0; step < 3000; step++) {
      if (live.length > 0 && r() < 0.45) {
        a.free(live.splice(Math.floor(r() * live.length), 1)[0]!);
      } else {
        const o = a.alloc(Math.floor(r() * 20000));
        if (o !== undefined) live.push(o);
      }
      if (step % 50 === 0) {
        const lf = a.largestFree;
        if (lf > 0) {
          const o = a.alloc(lf);
          expect(o).toBeDefined();
          a.free(o!);
        }
        expect(a.alloc(lf + 64)).toBeUndefined();
      }
    }
    a.checkInvariants();
  });

  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`random alloc/free sequence (seed ${seed}): no overlap, free + used = capacity, all free again at the end`, () => {
      const r = rng(seed);
      const capacity = 64 * 1024 * 1024;
      const a = new Allocator(capacity);
      const live = new Map<number, number>();
      const keys: number[] = [];
      let failures = 0;
      for (let step = 0; step < 40_000; step++) {
        // Bias towards allocation until ~10k objects live, then churn.
        const pFree = live.size > 10_000 ? 0.6 : 0.3;
        if (live.size > 0 && r() < pFree) {
          // free a random live object (swap-remove from the key array)
          const k = Math.floor(r() * keys.length);
          const off = keys[k]!;
          keys[k] = keys[keys.length - 1]!;
          keys.pop();
          a.free(off);
          live.delete(off);
        } else {
          const kind = r();
          const n = kind < 0.6 ? Math.floor(r() * 512) : kind < 0.95 ? Math.floor(r() * 16384) : Math.floor(r() * 1_000_000);
          const o = a.alloc(n);
          // (plain checks in the hot loop: expect() is slow at 40k calls)
          if (o === undefined) {
            failures++;
            if (a.largestFree >= Math.max(64, Math.ceil(n / 64) * 64)) throw new Error(`alloc(${n}) failed with a large enough free block`);
          } else {
            if (live.has(o)) throw new Error(`offset ${o} handed out twice`);
            live.set(o, n);
            keys.push(o);
          }
        }
        if (step % 5000 === 0) {
          a.checkInvariants();
          checkNoOverlap(a, live);
        }
      }
      a.checkInvariants();
      checkNoOverlap(a, live);
      expect(live.size).toBeGreaterThan(1000);
      for (const off of live.keys()) a.free(off);
      a.checkInvariants();
      expect(a.used).toBe(0);
      expect(a.freeBlocks()).toEqual([[0, capacity]]);
      expect(a.largestFree).toBe(capacity);
      expect(failures).toBeGreaterThan(0); // the sequence did run the store full
    });
  }

  it('10k objects: allocate, free every other one, refill, free all', () => {
    const a = new Allocator(10_000 * 4096);
    const offs: number[] = [];
    for (let i = 0; i < 10_000; i++) offs.push(a.alloc(4096)!);
    expect(offs.every((o) => o !== undefined)).toBe(true);
    expect(a.alloc(1)).toBeUndefined();
    for (let i = 0; i < offs.length; i += 2) a.free(offs[i]!);
    expect(a.freeBlocks().length).toBe(5000); // every hole stays separate
    for (let i = 0; i < offs.length; i += 2) offs[i] = a.alloc(4000)!; // 4032 bytes: holes of 64 remain
    expect(a.used).toBe(a.capacity - 5000 * 64);
    expect(a.largestFree).toBe(64);
    a.checkInvariants();
    for (const o of offs) a.free(o);
    expect(a.freeBlocks()).toEqual([[0, a.capacity]]);
    a.checkInvariants();
  });

  it('never lets a block cross a boundary, and does not merge across it', () => {
    const seg = 64 * 1024;
    const a = new Allocator(seg * 4, [seg, seg * 2, seg * 3]);
    expect(a.freeBlocks()).toEqual([[0, seg], [seg, seg], [seg * 2, seg], [seg * 3, seg]]);
    expect(a.alloc(seg + 64)).toBeUndefined(); // larger than a segment
    const r = rng(99);
    const live = new Map<number, number>();
    for (let step = 0; step < 5000; step++) {
      if (live.size > 0 && r() < 0.5) {
        const off = [...live.keys()][Math.floor(r() * live.size)]!;
        a.free(off);
        live.delete(off);
      } else {
        const n = Math.floor(r() * seg * 0.4);
        const o = a.alloc(n);
        if (o !== undefined) {
          live.set(o, n);
          expect(Math.floor(o / seg)).toBe(Math.floor((o + a.sizeOf(o)! - 1) / seg));
        }
      }
    }
    a.checkInvariants();
    for (const off of live.keys()) a.free(off);
    expect(a.freeBlocks()).toEqual([[0, seg], [seg, seg], [seg * 2, seg], [seg * 3, seg]]);
  });

  it('handles arenas above 2^32 units (size classes past 32 bits)', () => {
    const cap = 2 ** 44; // 16 TiB of address space, bookkeeping only
    const a = new Allocator(cap);
    const big = a.alloc(2 ** 40)!;
    const small = a.alloc(64)!;
    expect(big % 64).toBe(0);
    expect(small).toBe(2 ** 40);
    expect(a.largestFree).toBe(cap - 2 ** 40 - 64);
    a.free(big);
    expect(a.alloc(2 ** 40 - 64)).toBe(0);
    a.checkInvariants();
  });

  it('rejects bad sizes', () => {
    const a = new Allocator(4096);
    expect(() => a.alloc(-1)).toThrow(RangeError);
    expect(() => a.alloc(1.5)).toThrow(RangeError);
    expect(() => new Allocator(4096, [100])).toThrow(/multiple of 64/);
  });
});
