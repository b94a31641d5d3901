/** The object store: Creating, sealing, pinning and releasing objects. */
import { describe, expect, it } from 'vitest';
import { Arena } from './arena.js';
import { ObjectExistsError } from './errors.js';
import { MiB, oid, put, turns, useStores } from './object_store.test_helper.js';

describe('ObjectStore', () => {
  const { newStore } = useStores();

  it('offsets are 64-byte aligned and a Float64Array at the object offset reads what was written', async () => {
    const store = newStore({ size: 1 * MiB, prefault: true });
    const other = Arena.attach(store.arena.procPath, store.arena.size); // a worker's mapping
    try {
      const counts = [1, 3, 17, 100, 1001, 4096];
      for (const [k, n] of counts.entries()) {
        // odd-sized neighbours in between, so alignment does not happen by accident
        await store.create(oid(`pad${k}`), 8 * k + 1);
        const id = oid(`f64-${n}`);
        const { offset, view } = await store.create(id, n * 8);
        expect(offset % 64).toBe(0);
        expect(view.byteOffset % 64).toBe(0);
        const w = new Float64Array(view.buffer, view.byteOffset, n);
        for (let i = 0; i < n; i++) w[i] = i * 1.5 - 7.25;
        store.seal(id);
        const got = (await store.get(id))!;
        expect(got.offset).toBe(offset);
        const r = new Float64Array(got.view.buffer, got.view.byteOffset, n);
        for (let i = 0; i < n; i++) if (r[i] !== i * 1.5 - 7.25) throw new Error(`element ${i} is ${r[i]}`);
        // the same floats, in place, through another mapping of the arena
        const o = new Float64Array(other.buffer, offset, n);
        expect(o[n - 1]).toBe((n - 1) * 1.5 - 7.25);
        store.release(id);
      }
    } finally {
      other.close();
    }
  });

  it('create, seal, get (pins), release, contains, delete', async () => {
    const store = newStore({ size: 1 * MiB });
    const id = oid('basic');
    await expect(store.create('nothex', 10)).rejects.toThrow(TypeError);
    await expect(store.create(id, -1)).rejects.toThrow(RangeError);
    const c = await store.create(id, 1000);
    expect(store.contains(id)).toBe(false);
    expect(await store.get(id)).toBeUndefined(); // not sealed yet
    await expect(store.create(id, 10)).rejects.toThrow(ObjectExistsError);
    c.view.fill(1);
    store.seal(id);
    expect(() => store.seal(id)).toThrow(/already sealed/);
    expect(store.contains(id)).toBe(true);
    expect(() => store.release(id)).toThrow(/not pinned/);
    const g1 = (await store.get(id))!;
    const g2 = (await store.get(id))!;
    expect(g1.size).toBe(1000);
    expect(g2.view[999]).toBe(1);
    expect(store.stats()).toMatchObject({ numObjects: 1, numPrimary: 1, numPinned: 1, primaryBytes: 1000, used: 1024 });
    store.release(id);
    store.release(id);
    expect(store.stats().numPinned).toBe(0);
    expect(store.delete(id)).toBe(true);
    expect(store.delete(id)).toBe(false);
    expect(store.contains(id)).toBe(false);
    expect(store.stats()).toMatchObject({ numObjects: 0, used: 0, primaryBytes: 0 });
    // zero-sized objects exist too
    const z = oid('zero');
    expect((await store.create(z, 0)).view.length).toBe(0);
    store.seal(z);
    expect((await store.get(z))!.size).toBe(0);
  });
  it('a create waits for a release (delete while pinned frees at the last release)', async () => {
    const store = newStore({ size: 2 * MiB, fullTimeoutMs: 60_000 });
    const [a, b, c] = ['wa', 'wb', 'wc'].map(oid) as string[];
    await put(store, a!, 1 * MiB);
    await put(store, b!, 1 * MiB);
    await store.get(a!);
    await store.get(b!);
    let settled = false;
    const pending = store.create(c!, 1 * MiB).finally(() => (settled = true));
    await turns();
    expect(settled).toBe(false);
    expect(store.delete(a!)).toBe(true); // still pinned: memory stays
    expect(store.contains(a!)).toBe(false);
    await turns();
    expect(settled).toBe(false);
    expect(store.stats().numPinned).toBe(2);
    store.release(a!); // last pin of the deleted object: memory freed, the create proceeds
    const created = await pending;
    expect(created.offset % 64).toBe(0);
    expect(store.stats()).toMatchObject({ numPinned: 1, used: 2 * MiB });
  });

  it('a create that has to wait for pins says so at once (onWaitingForSpace); one that finds room does not', async () => {
    let waits = 0;
    const store = newStore({ size: 2 * MiB, fullTimeoutMs: 60_000, onWaitingForSpace: () => { waits += 1; } });
    const [a, b, c] = ['sa', 'sb', 'sc'].map(oid) as string[];
    await put(store, a!, 1 * MiB);
    await store.get(a!);
    await put(store, b!, 1 * MiB); // room was there
    expect(waits).toBe(0);
    await store.get(b!);
    const pending = store.create(c!, 1 * MiB);
    await turns();
    expect(waits).toBe(1); // before any timer: the raylet asks its readers to collect garbage now
    store.release(a!);
    store.delete(a!);
    await pending;
    expect(waits).toBe(1);
  });
});
