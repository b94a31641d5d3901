/** Issue 3, acceptance 9: `rayts memory` shows each process's refs with their reference types. */
import { afterEach, describe, expect, it } from 'vitest';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TestCluster, type StartedNode } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

let cluster: TestCluster;
afterEach(async () => {
  const { leftover } = await cluster.cleanup();
  expect(leftover).toEqual([]);
});

describe('rayts memory', () => {
  it('lists refs per node with PID, Driver/Worker, size and reference type, plus the store line; --json agrees', async () => {
    cluster = new TestCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const gate = join(cluster.root, 'gate');
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      import { execFile } from 'node:child_process';
      import { promisify } from 'node:util';
      import { writeFileSync } from 'node:fs';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const local = await ray.put(new Uint8Array(300 * 1024));              // LOCAL_REFERENCE
      const pinnedRef = await ray.put(new Float64Array(64 * 1024));
      const held = await ray.get(pinnedRef);                                 // PINNED_IN_MEMORY while 'held' lives
      const inner = await ray.put('inner value');
      const outer = await ray.put({ nested: [inner] });                     // inner is CAPTURED_IN_OBJECT
      const argRef = await ray.put(new Uint8Array(200 * 1024));
      const waitFor = ray.remote(async (arr, path) => {
        const fs = await import('node:fs');
        while (!fs.existsSync(path)) await new Promise((r) => setTimeout(r, 10));
        return arr.length;
      });
      const pending = waitFor.remote(argRef, ${JSON.stringify(gate)});     // argRef is USED_BY_PENDING_TASK
      // Asynchronously: the driver must stay responsive, the raylet asks it for its refs.
      const cli = async (args) => (await promisify(execFile)(process.execPath, [${JSON.stringify(join(ROOT, 'bin/rayts.js'))}, 'memory', '--address', ${JSON.stringify(head.gcsAddress)}, '--temp-dir', ${JSON.stringify(head.tempDir)}, ...args], { encoding: 'utf8' })).stdout;
      const text = await cli([]);
      const json = JSON.parse(await cli(['--json']));
      writeFileSync(${JSON.stringify(gate)}, '');
      const len = await ray.get(pending);
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ text, json, len, ids: { local: local.id, pinned: pinnedRef.id, inner: inner.id, outer: outer.id, arg: argRef.id }, heldLength: held.length, pid: process.pid }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.len).toBe(200 * 1024);
    const refs = r.json.flatMap((n: { refs: unknown[] }) => n.refs) as { objectId: string; referenceType: string; pid: number; workerType: string; size: string | number; ip: string }[];
    const byId = (id: string) => refs.find((x) => x.objectId === id);
    expect(byId(r.ids.local)).toMatchObject({ referenceType: 'LOCAL_REFERENCE', pid: r.pid, workerType: 'Driver', ip: '127.0.0.1' });
    expect(Number(byId(r.ids.local)!.size)).toBeGreaterThan(300 * 1024);
    expect(byId(r.ids.pinned)!.referenceType).toBe('PINNED_IN_MEMORY');
    expect(byId(r.ids.inner)!.referenceType).toBe('CAPTURED_IN_OBJECT');
    expect(byId(r.ids.arg)!.referenceType).toBe('USED_BY_PENDING_TASK');
    expect(r.text).toContain('--- Summary for node address: 127.0.0.1 ---');
    expect(r.text).toContain('--- Object references for node address: 127.0.0.1 ---');
    for (const t of ['LOCAL_REFERENCE', 'PINNED_IN_MEMORY', 'USED_BY_PENDING_TASK', 'CAPTURED_IN_OBJECT']) expect(r.text).toContain(t);
    expect(r.text).toMatch(new RegExp(`127\\.0\\.0\\.1\\s+${r.pid}\\s+Driver`));
    expect(r.text).toMatch(/--- Aggregate object store stats across all nodes ---\nPlasma memory usage \d+ MiB, \d+ objects, [\d.]+% full/);
    expect(r.json[0].store.numObjects).toBeGreaterThan(0);
  });

  it('with RAYTS_RECORD_REF_CREATION_SITES=1 the Call Site column shows the script\'s file:line; without it, disabled and a hint', async () => {
    cluster = new TestCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const dir = makeUserProject(cluster);
    const source = callSiteDriver(head);
    const lineOf = (marker: string) => source.split('\n').findIndex((l) => l.includes(marker)) + 1;
    const script = join(realpathSync(dir), 'main.mjs');

    const on = await runDriver(cluster, dir, source, { RAYTS_RECORD_REF_CREATION_SITES: '1' });
    expect(on.code, on.stderr).toBe(0);
    const withSites = resultOf(on);
    const refs = withSites.json.flatMap((n: { refs: unknown[] }) => n.refs) as { objectId: string; callSite: string }[];
    expect(refs.find((x) => x.objectId === withSites.ids.put)?.callSite).toBe(`${script}:${lineOf('PUT-SITE')}`);
    expect(refs.find((x) => x.objectId === withSites.ids.task)?.callSite).toBe(`${script}:${lineOf('TASK-SITE')}`);
    expect(withSites.text).toContain(`${script}:${lineOf('PUT-SITE')}`);
    expect(withSites.text).not.toContain('RAYTS_RECORD_REF_CREATION_SITES');

    const off = await runDriver(cluster, dir, source, { RAYTS_RECORD_REF_CREATION_SITES: undefined });
    expect(off.code, off.stderr).toBe(0);
    const without = resultOf(off);
    const offRefs = without.json.flatMap((n: { refs: unknown[] }) => n.refs) as { objectId: string; callSite: string }[];
    expect(offRefs.find((x) => x.objectId === without.ids.put)?.callSite).toBe('disabled');
    expect(without.text).toMatch(new RegExp(`127\\.0\\.0\\.1\\s+${without.pid}\\s+Driver\\s+disabled\\s`));
    expect(without.text).toContain('To record the call site of each ObjectRef created, set RAYTS_RECORD_REF_CREATION_SITES=1');
    expect(JSON.stringify(without.json)).not.toContain('RAYTS_RECORD_REF_CREATION_SITES');
  });
});

/** A driver that makes a put and a task output (lines marked PUT-SITE, TASK-SITE), then runs `rayts memory` text and --json. */
function callSiteDriver(head: StartedNode): string {
  return `
      import * as ray from 'rayts';
      import { execFile } from 'node:child_process';
      import { promisify } from 'node:util';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const put = await ray.put(new Uint8Array(200 * 1024)); // PUT-SITE
      const task = ray.remote(() => 'done').remote(); // TASK-SITE
      await ray.get(task);
      const cli = async (args) => (await promisify(execFile)(process.execPath, [${JSON.stringify(join(ROOT, 'bin/rayts.js'))}, 'memory', '--address', ${JSON.stringify(head.gcsAddress)}, '--temp-dir', ${JSON.stringify(head.tempDir)}, ...args], { encoding: 'utf8' })).stdout;
      const text = await cli([]);
      const json = JSON.parse(await cli(['--json']));
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ text, json, ids: { put: put.id, task: task.id }, pid: process.pid }));
    `;
}
