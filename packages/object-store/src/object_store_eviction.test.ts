/** The object store: Making room: eviction of droppable copies and ObjectStoreFullError. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ObjectStoreFullError } from '@rayts/common';
import { MiB, KiB, oid, sha, put, useStores } from './object_store.test_helper.js';

describe('ObjectStore', () => {
  const { tempDir, newStore } = useStores();

  it('evicts secondary copies, least recently used first, to make room', async () => {
    const evicted: string[] = [];
    const store = newStore({ size: 1 * MiB, onEvicted: (id) => evicted.push(id) });
    const s = [0, 1, 2, 3].map((i) => oid(`sec${i}`));
    for (const id of s) await put(store, id, 256 * KiB, false);
    expect(store.stats()).toMatchObject({ numSecondary: 4, secondaryBytes: 1 * MiB, largestFree: 0 });
    await store.get(s[0]!); // s0 becomes most recently used
    store.release(s[0]!);
    await put(store, oid('p0'), 256 * KiB);
    expect(evicted).toEqual([s[1]]);
    expect(store.contains(s[1]!)).toBe(false);
    expect(store.contains(s[0]!)).toBe(true);
    await put(store, oid('p1'), 300 * KiB); // needs two evictions (s2, s3) — s0 is newer
    expect(evicted).toEqual([s[1], s[2], s[3]]);
    expect(store.stats()).toMatchObject({ numSecondary: 1, evictedObjectsTotal: 3 });
  });

  it('store full: secondaries are evicted, then primaries spilled, then ObjectStoreFullError', async () => {
    const spillDir = tempDir();
    const store = newStore({ size: 4 * MiB, spillDir, spillThreshold: 1, minSpillSize: 1, fullTimeoutMs: 200 });
    const [s0, s1, p0, p1, p2, p3, p4, p5] = ['s0', 's1', 'p0', 'p1', 'p2', 'p3', 'p4', 'p5'].map(oid) as string[];
    const hp0 = await put(store, p0!, 1 * MiB);
    await put(store, s0!, 1 * MiB, false);
    await put(store, s1!, 1 * MiB, false);
    await put(store, p1!, 1 * MiB);
    expect(store.stats().largestFree).toBe(0);

    // 1. secondaries go first, even though p0 is older
    await put(store, p2!, 1 * MiB);
    expect(store.stats()).toMatchObject({ evictedObjectsTotal: 1, spilledObjectsTotal: 0 });
    expect(store.contains(s0!)).toBe(false);
    await put(store, p3!, 1 * MiB);
    expect(store.stats()).toMatchObject({ evictedObjectsTotal: 2, spilledObjectsTotal: 0, numSecondary: 0 });

    // 2. then the least recently used primary is spilled (p0), and it stays readable
    await store.create(p4!, 1 * MiB); // left unsealed: cannot be spilled
    expect(store.stats()).toMatchObject({ spilledObjectsTotal: 1, numSpilled: 1 });
    expect(store.contains(p0!)).toBe(true);
    expect(store.inMemory(p0!)).toBe(false);
    expect(readdirSync(spillDir)).toHaveLength(1);

    // 3. everything in memory pinned or unsealed: bounded wait, then ObjectStoreFullError
    for (const id of [p1!, p2!, p3!]) expect(await store.get(id)).toBeDefined();
    const err = await store.create(p5!, 1 * MiB).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectStoreFullError);
    expect((err as Error).message).toContain(`${1 * MiB} bytes`);
    expect((err as Error).message).toContain(`${4 * MiB} bytes`);
    expect((err as Error).message).toMatch(/3 pinned/);
    // restoring p0 needs room too, and there is none
    await expect(store.get(p0!)).rejects.toBeInstanceOf(ObjectStoreFullError);

    // 4. releases make room again: p1 gets spilled, p0 comes back byte-exact
    store.release(p1!);
    const g = (await store.get(p0!))!;
    expect(sha(g.view)).toBe(hp0);
    store.release(p0!);
    expect(store.stats().restoredObjectsTotal).toBe(1);
  });

  it('an object larger than the whole store fails at once with ObjectStoreFullError', async () => {
    const store = newStore({ size: 1 * MiB, fullTimeoutMs: 60_000 });
    const started = Date.now();
    const err = await store.create(oid('huge'), 2 * MiB).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectStoreFullError);
    expect((err as Error).message).toMatch(/larger than the whole store/);
    expect((err as Error).message).toContain(`${2 * MiB} bytes`);
    expect((err as Error).message).toContain(`${1 * MiB} bytes`);
    expect(Date.now() - started).toBeLessThan(10_000); // did not wait for the 60 s timeout
  });
});
