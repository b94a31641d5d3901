import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectStoreFullError, OutOfDiskError } from '@rayts/common';
import { Arena } from './arena.js';
import { ObjectExistsError, ObjectStore, SpilledObjectLostError, type ObjectStoreOptions } from './object_store.js';
import { probeTmpfsMount, tryMountTmpfs, unmountAll } from './tmpfs.test_helper.js';

const MiB = 1024 * 1024;
const KiB = 1024;

function oid(n: number | string): string {
  return createHash('sha256').update(`object-${n}`).digest('hex').slice(0, 56);
}

function sha(view: Uint8Array): string {
  return createHash('sha256').update(view).digest('hex');
}

/** create → random bytes → seal; returns the bytes' hash. */
async function put(store: ObjectStore, id: string, size: number, primary = true): Promise<string> {
  const { view } = await store.create(id, size, { primary });
  randomFillSync(view);
  const h = sha(view);
  store.seal(id);
  return h;
}

/** Lets pending promise callbacks and I/O callbacks run (not a sleep: a few event-loop turns). */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}


const canMount = probeTmpfsMount();
const tinyFsName = (what: string): string =>
  canMount ? what : `${what} (SKIPPED: mount -t tmpfs failed with EPERM, needs root/CAP_SYS_ADMIN)`;

/** Spill files in `dir` and their total size. */
function spillListing(dir: string): { names: string[]; bytes: number } {
  if (!existsSync(dir)) return { names: [], bytes: 0 };
  const names = readdirSync(dir).sort();
  return { names, bytes: names.reduce((s, n) => s + statSync(join(dir, n)).size, 0) };
}

describe('ObjectStore', () => {
  const stores: ObjectStore[] = [];
  const dirs: string[] = [];
  const mounts: string[] = [];

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    unmountAll(mounts);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'rayts-os-test-'));
    dirs.push(d);
    return d;
  }

  function newStore(opts: Partial<ObjectStoreOptions> & { size: number }): ObjectStore {
    const s = new ObjectStore({ prefault: false, fullTimeoutMs: 200, ...opts });
    stores.push(s);
    return s;
  }

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
    // the 95 % pre-check is off, so the second 3 MiB write really runs out of space mid-file
    const store = newStore({ size: 8 * MiB, spillDir, diskCapacityThreshold: 1, minSpillSize: 1 });
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
