/** The object store: Spilling primary copies to disk and restoring them. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MiB, KiB, oid, sha, put, spillListing, useStores } from './object_store.test_helper.js';

describe('ObjectStore', () => {
  const { tempDir, newStore } = useStores();

  it('spill + restore is byte-exact: 20 objects of 1 MiB in an 8 MiB store', async () => {
    const spillDir = join(tempDir(), 'spill');
    const store = newStore({ size: 8 * MiB, spillDir });
    const hashes = new Map<string, string>();
    for (let i = 0; i < 20; i++) hashes.set(oid(`big${i}`), await put(store, oid(`big${i}`), 1 * MiB));
    await store.drain();
    const st = store.stats();
    expect(st.spilledObjectsTotal).toBeGreaterThanOrEqual(12);
    expect(st.primaryUnspilledBytes).toBeLessThanOrEqual(0.8 * st.capacity);
    expect(st.spillFiles).toBeGreaterThan(0);
    expect(spillListing(spillDir).bytes).toBe(st.spillFileBytes);
    for (const [id, h] of hashes) {
      expect(store.contains(id)).toBe(true);
      const g = (await store.get(id))!;
      expect(sha(g.view)).toBe(h);
      store.release(id);
    }
    // and a second round, in reverse order (evicts restored copies, restores others again)
    for (const [id, h] of [...hashes].reverse()) {
      const g = (await store.get(id))!;
      expect(sha(g.view)).toBe(h);
      store.release(id);
    }
    const after = store.stats();
    expect(after.restoredObjectsTotal).toBeGreaterThanOrEqual(12);
    expect(after.spillThroughputMiBps).toBeGreaterThan(0);
    expect(after.restoreThroughputMiBps).toBeGreaterThan(0);
    for (const id of hashes.keys()) expect(store.delete(id)).toBe(true);
    await store.drain();
    expect(readdirSync(spillDir)).toEqual([]);
    expect(store.stats()).toMatchObject({ used: 0, numObjects: 0, numSpilled: 0, spilledBytes: 0, spillFiles: 0 });
  });

  it('fuses small objects into one spill file, deleted when its last object is deleted', async () => {
    const spillDir = tempDir();
    const store = newStore({ size: 1 * MiB, spillDir, spillThreshold: 0.5, minSpillSize: 256 * KiB });
    const ids = Array.from({ length: 16 }, (_, i) => oid(`small${i}`));
    const hashes = new Map<string, string>();
    for (const id of ids) hashes.set(id, await put(store, id, 60 * KiB));
    await store.drain();
    const st = store.stats();
    expect(st.spilledObjectsTotal).toBeGreaterThanOrEqual(4);
    expect(st.spillFiles).toBeLessThan(st.spilledObjectsTotal);
    const byFile = new Map<string, string[]>();
    for (const id of ids) {
      const loc = store.spilledTo(id);
      if (loc) byFile.set(loc.path, [...(byFile.get(loc.path) ?? []), id]);
    }
    const [path, members] = [...byFile].find(([, m]) => m.length >= 2)!;
    expect(existsSync(path)).toBe(true);
    // restore one member: the file is still needed by the others
    const g = (await store.get(members[0]!))!;
    expect(sha(g.view)).toBe(hashes.get(members[0]!));
    store.release(members[0]!);
    for (const id of members.slice(0, -1)) {
      store.delete(id);
      expect(existsSync(path)).toBe(true);
    }
    store.delete(members.at(-1)!);
    expect(existsSync(path)).toBe(false);
    for (const id of ids) store.delete(id);
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it('spills in the background once primary copies pass the threshold; never spills secondaries', async () => {
    const spillDir = tempDir();
    const store = newStore({ size: 10 * MiB, spillDir });
    for (let i = 0; i < 9; i++) await put(store, oid(`sec-t${i}`), 1 * MiB, false);
    await store.drain();
    expect(store.stats()).toMatchObject({ spilledObjectsTotal: 0, secondaryBytes: 9 * MiB });
    for (let i = 0; i < 9; i++) await put(store, oid(`pri-t${i}`), 1 * MiB);
    await store.drain();
    const st = store.stats();
    expect(st.spilledObjectsTotal).toBeGreaterThan(0);
    expect(st.primaryUnspilledBytes).toBeLessThanOrEqual(0.8 * st.capacity);
    expect(st.numPrimary).toBe(9);
  });

  it('spills ahead of creates that had to make room, keeping those objects in memory', async () => {
    const spillDir = tempDir();
    // three objects of 1 MiB + 64 bytes fill 75 % of the store: below the threshold, nothing spills
    const store = newStore({ size: 4 * MiB, spillDir });
    const ids = ['ahead0', 'ahead1', 'ahead2', 'ahead3'].map(oid);
    const hashes = new Map<string, string>();
    for (const id of ids.slice(0, 3)) hashes.set(id, await put(store, id, MiB + 64));
    await store.drain();
    expect(store.stats().spilledObjectsTotal).toBe(0);
    // the fourth has to spill one to fit; the store then writes the next one ahead, and keeps it in memory
    hashes.set(ids[3]!, await put(store, ids[3]!, MiB + 64));
    await store.drain();
    expect(store.stats().spilledObjectsTotal).toBe(2);
    expect(store.inMemory(ids[0]!)).toBe(false);
    expect(store.spilledTo(ids[1]!)).toBeDefined();
    expect(store.inMemory(ids[1]!)).toBe(true);
    store.checkInvariants();
    // a fifth create drops it without another write
    await put(store, oid('ahead4'), MiB + 64);
    expect(store.inMemory(ids[1]!)).toBe(false);
    for (const [id, h] of hashes) {
      expect(sha((await store.get(id))!.view)).toBe(h);
      store.release(id);
    }
    store.checkInvariants();
  });

  it('does not free a pinned object it spilled; concurrent gets restore a spilled object once', async () => {
    const spillDir = tempDir();
    const store = newStore({ size: 4 * MiB, spillDir, spillThreshold: 1, minSpillSize: 2 * MiB });
    const [a, b, c, d, e] = ['ca', 'cb', 'cc', 'cd', 'ce'].map(oid) as string[];
    const ha = await put(store, a!, 1 * MiB);
    const hb = await put(store, b!, 1 * MiB);
    await put(store, c!, 1 * MiB);
    await put(store, d!, 1 * MiB);
    // e needs room: a and b (least recently used) are picked for one fused spill file …
    const creating = store.create(e!, 1 * MiB);
    for (let i = 0; i < 20; i++) await Promise.resolve(); // batch chosen, the write is on the thread pool
    // … and b gets pinned while the write is reading it
    const pinned = (await store.get(b!))!;
    await creating;
    expect(store.spilledTo(a!)).toBeDefined();
    expect(store.spilledTo(b!)?.path).toBe(store.spilledTo(a!)?.path);
    expect(store.inMemory(a!)).toBe(false);
    expect(store.inMemory(b!)).toBe(true); // spilled, but kept in memory while pinned
    expect(sha(pinned.view)).toBe(hb);
    store.release(b!); // now droppable without a write: its bytes are on disk
    store.seal(e!);

    const [g1, g2] = await Promise.all([store.get(a!), store.get(a!)]);
    expect(g1!.offset).toBe(g2!.offset);
    expect(sha(g1!.view)).toBe(ha);
    expect(store.inMemory(b!)).toBe(false); // b's memory was dropped to restore a
    expect(store.stats()).toMatchObject({ restoredObjectsTotal: 1, numPinned: 1, spilledObjectsTotal: 2 });
    store.release(a!);
    store.release(a!);
    expect(store.stats().numPinned).toBe(0);
    const gb = (await store.get(b!))!;
    expect(sha(gb.view)).toBe(hb);
    store.release(b!);
  });

  it('delete during a spill write and during a restore leaves no memory and no files behind', async () => {
    const spillDir = tempDir();
    const store = newStore({ size: 4 * MiB, spillDir, spillThreshold: 0, minSpillSize: 1 });
    const a = oid('del-a');
    await put(store, a, 1 * MiB); // seal starts the background spill
    store.delete(a);
    await store.drain();
    expect(store.stats()).toMatchObject({ used: 0, numObjects: 0 });
    expect(readdirSync(spillDir)).toEqual([]);

    const b = oid('del-b');
    await put(store, b, 1 * MiB);
    await store.drain();
    expect(store.inMemory(b)).toBe(false);
    const restoring = store.get(b);
    store.delete(b);
    expect(await restoring).toBeUndefined();
    expect(store.stats()).toMatchObject({ used: 0, numObjects: 0 });
    expect(readdirSync(spillDir)).toEqual([]);
  });
  it('close() removes the spill files', async () => {
    const spillDir = tempDir();
    const store = newStore({ size: 2 * MiB, spillDir, spillThreshold: 0 });
    await put(store, oid('close'), 100 * KiB);
    await store.drain();
    expect(readdirSync(spillDir)).toHaveLength(1);
    await store.close();
    expect(readdirSync(spillDir)).toEqual([]);
    await expect(store.create(oid('after'), 1)).rejects.toThrow(/closed/);
  });
});
