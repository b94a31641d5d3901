/**
 * `rayts memory` against a running driver: it lists each process's refs with their reference
 * types (local, pinned, captured in an object, used by a pending task), sizes and the store's
 * usage, in text and --json; with RAYTS_RECORD_REF_CREATION_SITES=1 it shows where each ref was
 * created.
 */
import { describe, expect, it } from 'vitest';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, useCluster } from '../helpers/cluster.js';
import { fixtureSource, makeUserProject, resultOf, runDriver } from '../helpers/driver.js';
import { VIA_CLIENT } from '../helpers/via_client.js';

const newCluster = useCluster();

/** One row of `rayts memory --json`: a node's refs and its store. */
interface MemoryNode {
  refs: { objectId: string; referenceType: string; pid: number; workerType: string; size: string | number; ip: string; callSite: string }[];
  store: { numObjects: number };
}

/** What the `rayts memory` fixtures report: the command's text and JSON, the refs' ids, the driver's pid. */
interface MemoryReport<Ids> { text: string; json: MemoryNode[]; ids: Ids; pid: number }

describe('rayts memory', () => {
  it('lists refs per node with PID, Driver/Worker, size and reference type, plus the store line; --json agrees', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const gate = join(cluster.root, 'gate');
    const run = await runDriver(cluster, dir, 'objects/memory_reference_types.mjs', { address: head.gcsAddress, gate, raytsBin: BIN, tempDir: head.tempDir });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<MemoryReport<{ local: string; pinned: string; inner: string; outer: string; arg: string }> & { len: number; heldLength: number }>(run);
    expect(r.len).toBe(200 * 1024);
    const refs = r.json.flatMap((n: { refs: unknown[] }) => n.refs) as { objectId: string; referenceType: string; pid: number; workerType: string; size: string | number; ip: string }[];
    const byId = (id: string) => refs.find((x) => x.objectId === id);
    expect(byId(r.ids.local)).toMatchObject({ referenceType: 'LOCAL_REFERENCE', pid: r.pid, workerType: 'Driver', ip: '127.0.0.1' });
    expect(Number(byId(r.ids.local)!.size)).toBeGreaterThan(300 * 1024);
    // A value read in place from the node's store pins its object; a remote client reads a copy.
    expect(byId(r.ids.pinned)!.referenceType).toBe(VIA_CLIENT ? 'LOCAL_REFERENCE' : 'PINNED_IN_MEMORY');
    expect(byId(r.ids.inner)!.referenceType).toBe('CAPTURED_IN_OBJECT');
    expect(byId(r.ids.arg)!.referenceType).toBe('USED_BY_PENDING_TASK');
    expect(r.text).toContain('--- Summary for node address: 127.0.0.1 ---');
    expect(r.text).toContain('--- Object references for node address: 127.0.0.1 ---');
    for (const t of ['LOCAL_REFERENCE', ...(VIA_CLIENT ? [] : ['PINNED_IN_MEMORY']), 'USED_BY_PENDING_TASK', 'CAPTURED_IN_OBJECT']) expect(r.text).toContain(t);
    expect(r.text).toMatch(new RegExp(`127\\.0\\.0\\.1\\s+${r.pid}\\s+Driver`));
    expect(r.text).toMatch(/--- Aggregate object store stats across all nodes ---\nPlasma memory usage \d+ MiB, \d+ objects, [\d.]+% full/);
    // Which pages back the store (no huge pages reserved by this test: 4k, or thp where the host enables it).
    expect(r.text).toMatch(/Object store pages: (4k|thp|hugetlb) \(127\.0\.0\.1\)/);
    expect(r.json[0].store.numObjects).toBeGreaterThan(0);
  });

  it('objects whose refs the driver dropped leave the store once they are collected; a ref still held keeps its object', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'objects/release_on_gc.mjs', { address: head.gcsAddress, raytsBin: BIN, tempDir: head.tempDir });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ before: number; after: number; refs: string[]; keptId: string; keptByte: number; firstBytes: number[]; argLength: number; unread: string[] }>(run);
    console.log(`objects in the store: ${r.before} after the work, ${r.after} once the dropped refs were collected`);
    expect(r.firstBytes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.argLength).toBe(512 * 1024);
    // 10 puts, 10 outputs read, 10 never read and a stored argument are gone; the kept put stays, readable.
    expect(r.after).toBe(1);
    expect(r.refs).toEqual([r.keptId]);
    expect(r.keptByte).toBe(42);
  });

  it('with RAYTS_RECORD_REF_CREATION_SITES=1 the Call Site column shows the script\'s file:line; without it, disabled and a hint', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const dir = makeUserProject(cluster);
    const source = fixtureSource('objects/memory_call_sites.mjs');
    const params = { address: head.gcsAddress, raytsBin: BIN, tempDir: head.tempDir };
    const lineOf = (marker: string) => source.split('\n').findIndex((l) => l.includes(marker)) + 1;
    const script = join(realpathSync(dir), 'main.mjs');

    const on = await runDriver(cluster, dir, 'objects/memory_call_sites.mjs', params, { env: { RAYTS_RECORD_REF_CREATION_SITES: '1' } });
    expect(on.code, on.stderr).toBe(0);
    const withSites = resultOf<MemoryReport<{ put: string; task: string }>>(on);
    const refs = withSites.json.flatMap((n: { refs: unknown[] }) => n.refs) as { objectId: string; callSite: string }[];
    expect(refs.find((x) => x.objectId === withSites.ids.put)?.callSite).toBe(`${script}:${lineOf('PUT-SITE')}`);
    expect(refs.find((x) => x.objectId === withSites.ids.task)?.callSite).toBe(`${script}:${lineOf('TASK-SITE')}`);
    expect(withSites.text).toContain(`${script}:${lineOf('PUT-SITE')}`);
    expect(withSites.text).not.toContain('RAYTS_RECORD_REF_CREATION_SITES');

    const off = await runDriver(cluster, dir, 'objects/memory_call_sites.mjs', params, { env: { RAYTS_RECORD_REF_CREATION_SITES: undefined } });
    expect(off.code, off.stderr).toBe(0);
    const without = resultOf<MemoryReport<{ put: string; task: string }>>(off);
    const offRefs = without.json.flatMap((n: { refs: unknown[] }) => n.refs) as { objectId: string; callSite: string }[];
    expect(offRefs.find((x) => x.objectId === without.ids.put)?.callSite).toBe('disabled');
    expect(without.text).toMatch(new RegExp(`127\\.0\\.0\\.1\\s+${without.pid}\\s+Driver\\s+disabled\\s`));
    expect(without.text).toContain('To record the call site of each ObjectRef created, set RAYTS_RECORD_REF_CREATION_SITES=1');
    expect(JSON.stringify(without.json)).not.toContain('RAYTS_RECORD_REF_CREATION_SITES');
  });
});
