/** The object store: Spill files that are lost or damaged, and a spill disk that fills up. */
import { existsSync, readdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutOfDiskError } from '@rayts/common';
import { SpilledObjectLostError } from './errors.js';
import type { ObjectStore } from './object_store.js';
import { MiB, KiB, oid, sha, put, canMount, tinyFsName, spillListing, useStores } from './object_store.test_helper.js';
import { tryMountTmpfs } from './tmpfs.test_helper.js';

describe('ObjectStore', () => {
  const { mounts, tempDir, newStore } = useStores();

  /** Eight 1 MiB objects in a 4 MiB store, one per spill file; returns the spilled ids (oldest first) and every hash. */
  async function spilledStore(): Promise<{ store: ObjectStore; spilled: string[]; hashes: Map<string, string> }> {
    const store = newStore({ size: 4 * MiB, spillDir: join(tempDir(), 'spill'), minSpillSize: 1 });
    const hashes = new Map<string, string>();
    for (let i = 0; i < 8; i++) hashes.set(oid(`lost${i}`), await put(store, oid(`lost${i}`), 1 * MiB));
    await store.drain();
    const spilled = [...hashes.keys()].filter((id) => store.spilledTo(id) && !store.inMemory(id));
    expect(spilled.length).toBeGreaterThanOrEqual(2);
    return { store, spilled, hashes };
  }

  it('a spill file deleted from outside: get throws SpilledObjectLostError, the object is dropped, the store stays consistent', async () => {
    const { store, spilled, hashes } = await spilledStore();
    const [victim, survivor] = spilled as [string, string];
    const path = store.spilledTo(victim)!.path;
    unlinkSync(path);
    const before = store.stats();
    const err = await store.get(victim).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpilledObjectLostError);
    expect((err as Error).message).toBe(`object ${victim} (1.00MiB) was spilled to ${path}, but that file is missing (deleted from outside rayts); ` +
      'the object store held no other copy, so the object is lost');
    expect(store.contains(victim)).toBe(false);
    expect(await store.get(victim)).toBeUndefined();
    store.checkInvariants();
    const after = store.stats();
    expect(after).toMatchObject({ numObjects: before.numObjects - 1, numSpilled: before.numSpilled - 1, used: before.used, lostObjectsTotal: 1 });
    // the id can be made again (a task re-run by lineage does this), and other objects are intact
    const h = await put(store, victim, 1 * MiB);
    expect(sha((await store.get(victim))!.view)).toBe(h);
    store.release(victim);
    expect(sha((await store.get(survivor))!.view)).toBe(hashes.get(survivor));
    store.release(survivor);
    store.checkInvariants();
  });

  it('a truncated or overwritten spill file never returns its bytes: SpilledObjectLostError names the sizes', async () => {
    const { store, spilled } = await spilledStore();
    const [truncated, grown] = spilled as [string, string];
    const tPath = store.spilledTo(truncated)!.path;
    truncateSync(tPath, 512 * KiB);
    const gPath = store.spilledTo(grown)!.path;
    writeFileSync(gPath, Buffer.alloc(1 * MiB + 7, 1));
    const concurrent = await Promise.allSettled([store.get(truncated), store.get(truncated)]);
    for (const r of concurrent) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(SpilledObjectLostError);
      expect(((r as PromiseRejectedResult).reason as Error).message).toContain(`${tPath}, but that file is ${512 * KiB} bytes but ${MiB} were written (truncated or overwritten)`);
    }
    await expect(store.get(grown)).rejects.toThrow(`${gPath}, but that file is ${MiB + 7} bytes but ${MiB} were written`);
    store.checkInvariants();
    expect(store.stats().lostObjectsTotal).toBe(2);
    // their files are no longer referenced, so they are removed
    expect(existsSync(tPath)).toBe(false);
    expect(existsSync(gPath)).toBe(false);
  });
  it.skipIf(!canMount)(tinyFsName('OutOfDiskError when the spill dir is a 4 MiB tmpfs; the store stays usable'), async () => {
    const spillDir = tempDir();
    expect(tryMountTmpfs(spillDir, '4m')).toBe(true);
    mounts.push(spillDir);
    const store = newStore({ size: 8 * MiB, spillDir, minSpillSize: 1 * MiB });
    const hashes = new Map<string, string>();
    let error: unknown;
    for (let i = 0; i < 40 && !error; i++) {
      const id = oid(`disk${i}`);
      try {
        hashes.set(id, await put(store, id, 1 * MiB));
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(OutOfDiskError);
    expect((error as Error).message).toMatch(/disk is full/i);
    await store.drain();
    const st = store.stats();
    expect(st.lastSpillError).toMatch(/disk is full/i);
    // no partial files: what is on disk is exactly what the store accounts for
    const listing = spillListing(spillDir);
    expect(listing.names).toHaveLength(st.spillFiles);
    expect(listing.bytes).toBe(st.spillFileBytes);
    expect(st.spilledBytes).toBeGreaterThan(0);
    // the store stays usable: everything reads back byte-exact …
    for (const [id, h] of hashes) {
      const g = (await store.get(id))!;
      expect(sha(g.view)).toBe(h);
      store.release(id);
    }
    // … and once objects are freed, creation works again
    const ids = [...hashes.keys()];
    for (const id of ids.slice(-3)) store.delete(id);
    await put(store, oid('after-disk-full'), 1 * MiB);
    for (const id of ids) store.delete(id);
    store.delete(oid('after-disk-full'));
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it.skipIf(!canMount)(tinyFsName('a spill write that hits ENOSPC half way removes its partial file'), async () => {
    const spillDir = tempDir();
    expect(tryMountTmpfs(spillDir, '4m')).toBe(true);
    mounts.push(spillDir);
    // the 95 % pre-check is off, so the second 3 MiB write really runs out of space mid-file; no
    // background spilling (threshold 1), so that write is the create's own
    const store = newStore({ size: 8 * MiB, spillDir, diskCapacityThreshold: 1, minSpillSize: 1, spillThreshold: 1 });
    const [a, b, c, d] = ['e1', 'e2', 'e3', 'e4'].map(oid) as string[];
    const ha = await put(store, a!, 3 * MiB);
    await put(store, b!, 3 * MiB);
    await put(store, c!, 3 * MiB); // spills a (3 MiB fits)
    expect(spillListing(spillDir).names).toHaveLength(1);
    const err = await store.create(d!, 3 * MiB).catch((e: unknown) => e); // spilling b hits ENOSPC
    expect(err).toBeInstanceOf(OutOfDiskError);
    expect((err as Error).message).toMatch(/ENOSPC/);
    const listing = spillListing(spillDir);
    expect(listing.names).toHaveLength(1);
    expect(listing.bytes).toBe(3 * MiB);
    expect(store.inMemory(b!)).toBe(true);
    expect(store.spilledTo(b!)).toBeUndefined();
    store.delete(c!); // room to restore a from the one complete file
    const g = (await store.get(a!))!;
    expect(sha(g.view)).toBe(ha);
    store.release(a!);
  });
});
