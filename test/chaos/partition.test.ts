/**
 * Network partitions between two nodes, each in a network namespace of the test's own
 * (test/helpers/netns.ts: the link between them drops every packet while partitioned). The head and
 * the driver are in `a`, a worker node in `b`.
 * - A partition shorter than the detection window (default health settings) kills nothing and loses
 *   nothing: the tasks running on the cut-off node finish there.
 * - A long one (health settings shortened) gets the node declared DEAD; its tasks run again on the
 *   head's node, its actor restarts there; when the link comes back, the old raylet learns it was
 *   declared dead and exits, with its workers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { FAST_HEALTH, alive, collect, useCluster, type TestCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, spawnDriver, told } from '../helpers/driver.js';
import { NetnsPair, canUseNetns } from '../helpers/netns.js';

const pairs: NetnsPair[] = [];
// After the cluster's processes are gone (useCluster's afterEach runs first: registered first).
const newCluster = useCluster({ afterCleanup: () => { for (const p of pairs.splice(0)) p.destroy(); } });
afterEach(() => { for (const p of pairs) p.heal(); });

interface PartitionReport {
  first: { pid: number; ip: string };
  after: { pid: number; ip: string } | { error: string; message: string };
  results: ({ i: number; ip: string; pid: number } | { error: string; message: string })[];
  waitedMs: number;
}

async function twoNodes(cluster: TestCluster, pair: NetnsPair, workerEnv: Record<string, string> = {}) {
  const head = await cluster.startHead({ ip: pair.ipA, numCpus: 4, netns: pair.a });
  const worker = await cluster.startWorker(head, { name: 'b', ip: pair.ipB, numCpus: 4, netns: pair.b, env: workerEnv });
  const status = await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2, 60_000, pair.a);
  const nodeB = status.nodes.active.find((n) => n.nodeIp === pair.ipB)!.nodeId;
  return { head, worker, nodeB };
}

/** Starts the driver in `a` and waits until its tasks all run on `b` (each wrote its start file). */
async function startWork(cluster: TestCluster, pair: NetnsPair, address: string, nodeId: string, tasks: number, seconds: number) {
  const dir = makeUserProject(cluster);
  const done = collect(spawnDriver(cluster, dir, 'chaos/partition_work.mjs', { address, nodeId, tasks, seconds }, { netns: pair.a }), 300_000);
  await told(dir, 'running', 120_000);
  const started = await pollUntil(() => readdirSync(dir).filter((f) => f.startsWith('started-')).length === tasks, 60_000, 50);
  expect(started, 'every task started on the worker node').toBe(true);
  return { dir, done };
}

describe.skipIf(!canUseNetns)('network partitions', () => {
  it('a 5 s partition with default health settings: no node dies, no task is lost or run twice', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const pair = NetnsPair.create();
    pairs.push(pair);
    const { head, nodeB } = await twoNodes(cluster, pair);
    const { dir, done } = await startWork(cluster, pair, head.gcsAddress, nodeB, 3, 12);
    expect(pair.reachable()).toBe(true);
    pair.partition();
    const cutAt = Date.now();
    expect(pair.reachable(), 'the link drops everything while partitioned').toBe(false);
    await pollUntil(() => Date.now() - cutAt >= 5000, 10_000, 50);
    pair.heal();
    expect(pair.reachable()).toBe(true);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'go-on'), '');
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<PartitionReport>(run);
    console.log(`5 s partition: tasks ${JSON.stringify(r.results)}, actor before ${JSON.stringify(r.first)} after ${JSON.stringify(r.after)}`);
    // Every task finished where it ran, once (one start file each); the actor is the same process.
    expect(r.results.map((x) => ('ip' in x ? x.ip : x.error))).toEqual([pair.ipB, pair.ipB, pair.ipB]);
    expect(readdirSync(dir).filter((f) => f.startsWith('started-'))).toHaveLength(3);
    expect(r.after).toEqual(r.first);
    const status = await cluster.statusJson(head.tempDir, pair.a);
    expect(status.nodes.active).toHaveLength(2);
    expect(status.nodes.recentFailures).toHaveLength(0);
  }, 300_000);

  it('a 60 s partition with short health settings: the node is declared dead, its work runs again on the head node, and the healed raylet exits', async () => {
    const cluster = newCluster({ ...FAST_HEALTH, RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const pair = NetnsPair.create();
    pairs.push(pair);
    // The cut-off raylet must not give up on the head by itself first: it learns its death when the link heals.
    const { head, worker, nodeB } = await twoNodes(cluster, pair, { RAYTS_GCS_RECONNECT_TIMEOUT_S: '600' });
    const workerPids = readdirSync(join(worker.sessionDir, 'pids', 'workers')).map((f) => Number(f.replace('.json', '')));
    const { dir, done } = await startWork(cluster, pair, head.gcsAddress, nodeB, 3, 8);
    pair.partition();
    const cutAt = Date.now();
    const status = await cluster.waitForStatus(head.tempDir, (s) => s.nodes.recentFailures.length === 1, 60_000, pair.a);
    console.log(`declared dead ${Date.now() - cutAt} ms after the cut: ${status.nodes.recentFailures[0]!.deathReason}`);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'go-on'), '');
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<PartitionReport>(run);
    console.log(`60 s partition: tasks ${JSON.stringify(r.results)} (waited ${r.waitedMs} ms), actor before ${JSON.stringify(r.first)} after ${JSON.stringify(r.after)}`);
    // Nothing lost: every task ran again on the head's node, the actor restarted there.
    expect(r.results.map((x) => ('ip' in x ? x.ip : `${x.error}: ${x.message}`))).toEqual([pair.ipA, pair.ipA, pair.ipA]);
    expect(r.after).toMatchObject({ ip: pair.ipA });
    // The partition lasts 60 s; then the old raylet hears it was declared dead and goes, workers and all.
    await pollUntil(() => Date.now() - cutAt >= 60_000, 90_000, 100);
    expect(alive(worker.rayletPid)).toBe(true);
    pair.heal();
    const healedAt = Date.now();
    const exited = await pollUntil(() => !alive(worker.rayletPid), 30_000, 50);
    console.log(`the cut-off raylet exited ${Date.now() - healedAt} ms after the link healed`);
    expect(exited).toBe(true);
    expect(Date.now() - healedAt).toBeLessThan(10_000 + 2_000);
    expect(await pollUntil(() => workerPids.every((p) => !alive(p)), 10_000)).toBe(true);
    expect((await cluster.statusJson(head.tempDir, pair.a)).nodes.active.map((n) => n.nodeIp)).toEqual([pair.ipA]);
  }, 300_000);
});
