/**
 * Issue 3, acceptance 2 and 7 (across nodes): tasks spread over three nodes (127.0.0.1-3, 2 CPUs
 * each), SPREAD balances them, a custom resource pins a task to the node that has it, an infeasible
 * task waits in status demands until a node that fits joins, nested tasks work across nodes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, collect } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';
import { pollUntil } from '@rayts/common';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

let cluster: TestCluster;
afterEach(async () => {
  const { leftover } = await cluster.cleanup();
  expect(leftover).toEqual([]);
});

async function threeNodes(c: TestCluster) {
  const head = await c.startHead({ numCpus: 2 });
  const w2 = await c.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
  const w3 = await c.startWorker(head, { name: 'w3', ip: '127.0.0.3', numCpus: 2, resources: '{"ssd":1}' });
  // Every raylet must have seen the others in its cluster view (one report round).
  await c.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 3);
  return { head, w2, w3 };
}

describe('tasks on a three-node cluster', () => {
  it('spread over all nodes, SPREAD balances, custom resources pin, nested tasks cross nodes', async () => {
    cluster = new TestCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200', RAYTS_PRESTART_WORKERS: '2' });
    const { head, w3 } = await threeNodes(cluster);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      // Wait until the local raylet knows the other nodes (its view refreshes with each report).
      const where = ray.remote(async (ms) => {
        const ray = await import('rayts');
        await new Promise((r) => setTimeout(r, ms));
        return ray.getRuntimeContext().nodeIp;
      });
      const count = (ips) => ips.reduce((m, ip) => ((m[ip] = (m[ip] ?? 0) + 1), m), {});
      const hybrid = count(await ray.get(Array.from({ length: 100 }, () => where.remote(100))));
      const spread = count(await ray.get(Array.from({ length: 100 }, () => where.options({ scheduling: 'SPREAD' }).remote(10))));
      const ssd = count(await ray.get(Array.from({ length: 6 }, () => where.options({ resources: { ssd: 1 } }).remote(1))));
      const fanout = ray.remote(async (n) => {
        const ray = await import('rayts');
        const leaf = ray.remote(async () => (await import('rayts')).getRuntimeContext().nodeIp);
        const ips = await ray.get(Array.from({ length: n }, () => leaf.options({ scheduling: 'SPREAD' }).remote()));
        return [...new Set(ips)].sort();
      });
      const nested = await ray.get(fanout.options({ resources: { ssd: 1 } }).remote(9));
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ hybrid, spread, ssd, nested }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(Object.keys(r.hybrid).sort()).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    expect(Object.values(r.spread).reduce((a: number, b) => a + (b as number), 0)).toBe(100);
    for (const n of Object.values(r.spread)) expect(Math.abs((n as number) - 33)).toBeLessThanOrEqual(7);
    expect(r.ssd).toEqual({ '127.0.0.3': 6 });
    expect(r.nested).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    expect(w3.nodeIp).toBe('127.0.0.3');
  });

  it('refs nested in values are borrowed: tasks on other nodes get them from their owner', async () => {
    cluster = new TestCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    await threeNodes(cluster);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init();
      const slow = ray.remote(async () => { await new Promise((r) => setTimeout(r, 200)); return 'made by a task'; });
      const big = await ray.put(new Float64Array(200000).fill(3));      // in the driver node's store
      const small = await ray.put({ hello: 'world' });                 // inline, held by the driver
      const use = ray.remote(async (box) => {
        const ray = await import('rayts');
        const [a, b, c] = await ray.get(box.refs);
        return { ip: ray.getRuntimeContext().nodeIp, a: a.length, a0: a[a.length - 1], b, c };
      });
      const results = await ray.get(Array.from({ length: 6 }, () => use.options({ scheduling: 'SPREAD' }).remote({ refs: [big, small, slow.remote()] })));
      // A ref made inside a task and returned nested: the driver borrows it from that worker.
      const maker = ray.remote(async () => { const ray = await import('rayts'); return [await ray.put('owned by a worker')]; });
      const [inner] = await ray.get(maker.remote());
      const fromWorker = await ray.get(inner);
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ results, fromWorker }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(new Set(r.results.map((x: { ip: string }) => x.ip)).size).toBe(3);
    for (const x of r.results) expect(x).toMatchObject({ a: 200000, a0: 3, b: { hello: 'world' }, c: 'made by a task' });
    expect(r.fromWorker).toBe('owned by a worker');
  });

  it('node affinity: hard runs on that node, hard to an unknown node fails, soft falls back', async () => {
    cluster = new TestCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const { w3 } = await threeNodes(cluster);
    const w3Node = (await cluster.statusJson(w3.tempDir)).nodes.active.find((n) => n.nodeIp === '127.0.0.3')!.nodeId;
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init();
      const where = ray.remote(async () => (await import('rayts')).getRuntimeContext().nodeIp);
      const pinned = await ray.get(Array.from({ length: 5 }, () => where.options({ scheduling: { nodeId: ${JSON.stringify(w3Node)}, soft: false } }).remote()));
      let hardError;
      try { await ray.get(where.options({ scheduling: { nodeId: 'f'.repeat(56), soft: false } }).remote()); } catch (e) { hardError = { cls: e.constructor.name, msg: e.message }; }
      const soft = await ray.get(where.options({ scheduling: { nodeId: 'f'.repeat(56), soft: true } }).remote());
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ pinned, hardError, soft }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.pinned).toEqual(Array(5).fill('127.0.0.3'));
    expect(r.hardError.cls).toBe('TaskUnschedulableError');
    expect(r.hardError.msg).toContain('is not alive');
    expect(['127.0.0.1', '127.0.0.2', '127.0.0.3']).toContain(r.soft);
  });

  it('an infeasible task waits in status demands and runs when a node that fits joins', async () => {
    cluster = new TestCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    writeFileSync(join(dir, 'main.mjs'), `
      import * as ray from 'rayts';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const big = ray.remote({ numCpus: 64 }, async () => (await import('rayts')).getRuntimeContext().nodeIp);
      const ip = await ray.get(big.remote());
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ ip }));
    `);
    const driver = spawn(process.execPath, ['main.mjs'], { cwd: dir, env: cluster.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(driver, 120_000);
    const status = await cluster.waitForStatus(head.tempDir, (s) => (s.pendingDemands as { shape: Record<string, number> }[]).some((d) => d.shape.CPU === 64));
    expect(status.pendingDemands).toContainEqual(expect.objectContaining({ shape: { CPU: 64 }, count: 1, infeasible: true }));
    const text = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
    expect(text.stdout).toContain("{'CPU': 64.0}: 1+ pending tasks/actors");
    await cluster.startWorker(head, { name: 'big', ip: '127.0.0.4', numCpus: 64 });
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r).ip).toBe('127.0.0.4');
    expect(await pollUntil(async () => (await cluster.statusJson(head.tempDir)).pendingDemands.length === 0, 10_000)).toBe(true);
  });
});
