/** The object store: Random traffic against the counters and lists the store keeps. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ObjectStoreFullError } from '@rayts/common';
import { MiB, KiB, oid, sha, put, useStores } from './object_store.test_helper.js';

describe('ObjectStore', () => {
  const { tempDir, newStore } = useStores();

  it('random create/get/release/delete traffic with spilling keeps every byte and every counter right', async () => {
    let seed = 12345;
    const r = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const spillDir = tempDir();
    const expected = new Map<string, string>();
    const store = newStore({
      size: 4 * MiB, spillDir, minSpillSize: 256 * KiB, fullTimeoutMs: 50,
      onEvicted: (id) => expected.delete(id),
    });
    const pinned: string[] = [];
    let n = 0;
    let full = 0;
    const create = async (): Promise<void> => {
      const id = oid(`rnd${n++}`);
      const size = r() < 0.1 ? 0 : Math.floor(r() * (r() < 0.9 ? 64 * KiB : 700 * KiB));
      try {
        expected.set(id, await put(store, id, size, r() < 0.8));
      } catch (e) {
        if (!(e instanceof ObjectStoreFullError)) throw e;
        full++;
      }
    };
    const getOne = async (id: string, keep: boolean): Promise<void> => {
      const h = expected.get(id);
      const g = await store.get(id);
      if (!g) {
        if (expected.has(id) && h !== undefined && store.contains(id)) throw new Error(`get(${id}) returned nothing`);
        return;
      }
      if (expected.has(id) && sha(g.view) !== expected.get(id)) throw new Error(`object ${id} changed`);
      if (keep) pinned.push(id);
      else store.release(id);
    };
    for (let step = 0; step < 1500; step++) {
      const x = r();
      const ids = [...expected.keys()];
      const pick = (): string => ids[Math.floor(r() * ids.length)]!;
      if (x < 0.4 || ids.length === 0) {
        await create();
      } else if (x < 0.7) {
        await getOne(pick(), pinned.length < 4 && r() < 0.3);
      } else if (x < 0.8) {
        // several at once: restores, spills and creates interleave
        const a = pick();
        await Promise.all([getOne(a, false), getOne(a, false), create(), getOne(pick(), false)]);
      } else if (x < 0.9 && pinned.length > 0) {
        store.release(pinned.splice(Math.floor(r() * pinned.length), 1)[0]!);
      } else {
        const id = pick();
        expected.delete(id);
        store.delete(id);
      }
      if (step % 100 === 99) {
        await store.drain();
        store.checkInvariants();
      }
    }
    await store.drain();
    store.checkInvariants();
    const st = store.stats();
    expect(st.spilledObjectsTotal).toBeGreaterThan(0);
    expect(st.restoredObjectsTotal).toBeGreaterThan(0);
    for (const id of pinned.splice(0)) store.release(id);
    for (const id of store.ids()) store.delete(id);
    await store.drain();
    store.checkInvariants();
    expect(store.stats()).toMatchObject({ used: 0, numObjects: 0, spillFiles: 0, numPinned: 0 });
    expect(readdirSync(spillDir)).toEqual([]);
    expect(full).toBeGreaterThanOrEqual(0);
  });
});
