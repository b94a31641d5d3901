/**
 * Tasks across nodes: tasks spread over three nodes (127.0.0.1-3, 2 CPUs each), SPREAD balances
 * them, a custom resource pins a task to the node that has it, node affinity (hard and soft), refs
 * nested in values are borrowed across nodes, nested tasks cross nodes, and an infeasible task waits
 * in status demands until a node that fits joins.
 */
import { describe, expect, it } from 'vitest';
import { TestCluster, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';
import { pollUntil } from '@rayts/common';

const newCluster = useCluster();

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
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200', RAYTS_PRESTART_WORKERS: '2' });
    const { head, w3 } = await threeNodes(cluster);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/spread_three_nodes.mjs', { address: head.gcsAddress });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ hybrid: Record<string, number>; spread: Record<string, number>; ssd: Record<string, number>; nested: string[] }>(run);
    expect(Object.keys(r.hybrid).sort()).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    expect(Object.values(r.spread).reduce((a: number, b) => a + (b as number), 0)).toBe(100);
    for (const n of Object.values(r.spread)) expect(Math.abs((n as number) - 33)).toBeLessThanOrEqual(7);
    expect(r.ssd).toEqual({ '127.0.0.3': 6 });
    expect(r.nested).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    expect(w3.nodeIp).toBe('127.0.0.3');
  });

  it('refs nested in values are borrowed: tasks on other nodes get them from their owner', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    await threeNodes(cluster);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/borrowed_refs.mjs');
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ results: { ip: string }[]; fromWorker: string }>(run);
    expect(new Set(r.results.map((x: { ip: string }) => x.ip)).size, JSON.stringify(r.results.map((x) => x.ip))).toBe(3);
    for (const x of r.results) expect(x).toMatchObject({ a: 200000, a0: 3, b: { hello: 'world' }, c: 'made by a task' });
    expect(r.fromWorker).toBe('owned by a worker');
  });

  it('node affinity: hard runs on that node, hard to an unknown node fails, soft falls back', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const { w3 } = await threeNodes(cluster);
    const w3Node = (await cluster.statusJson(w3.tempDir)).nodes.active.find((n) => n.nodeIp === '127.0.0.3')!.nodeId;
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/node_affinity.mjs', { nodeId: w3Node });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ pinned: string[]; hardError: { cls: string; msg: string }; soft: string }>(run);
    expect(r.pinned).toEqual(Array(5).fill('127.0.0.3'));
    expect(r.hardError.cls).toBe('TaskUnschedulableError');
    expect(r.hardError.msg).toContain('is not alive');
    expect(['127.0.0.1', '127.0.0.2', '127.0.0.3']).toContain(r.soft);
  });

  it('an infeasible task waits in status demands and runs when a node that fits joins', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const done = runDriver(cluster, dir, 'tasks/infeasible_task.mjs', { address: head.gcsAddress });
    const status = await cluster.waitForStatus(head.tempDir, (s) => (s.pendingDemands as { shape: Record<string, number> }[]).some((d) => d.shape.CPU === 64));
    expect(status.pendingDemands).toContainEqual(expect.objectContaining({ shape: { CPU: 64 }, count: 1, infeasible: true }));
    const text = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
    expect(text.stdout).toContain("{'CPU': 64.0}: 1+ pending tasks/actors");
    await cluster.startWorker(head, { name: 'big', ip: '127.0.0.4', numCpus: 64 });
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf<{ ip: string }>(r).ip).toBe('127.0.0.4');
    expect(await pollUntil(async () => (await cluster.statusJson(head.tempDir)).pendingDemands.length === 0, 10_000)).toBe(true);
  });
});
