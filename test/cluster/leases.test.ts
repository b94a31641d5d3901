/**
 * The direct task transport on a real node: a driver's tasks go to workers leased from the raylet
 * (counted in the node's metrics as leases granted, the tasks counted by the leased workers), a get
 * loop reuses its lease, a leased worker that dies fails its task with WORKER_DIED and the retry runs,
 * a task submitted by a task leases too, and the leases go back when the driver ends. The same
 * workload with direct submission turned off is counted by the raylet, with no lease.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, type RayletReady } from '@rayts/common';
import { alive, collect, readJsonFile, useCluster, type StartedNode } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver, spawnDriver, told } from '../helpers/driver.js';

const newCluster = useCluster();

interface Workload { batchPids: number; batch: number; loop: number; crashed: string; nestedSum: number; spread: boolean }

/** The node's metric samples by name and labels without the node's own, e.g. `rayts_worker_leases{state="HELD"}`. */
async function scrape(node: StartedNode): Promise<Map<string, number>> {
  const raylet = readJsonFile<RayletReady>(join(node.sessionDir, 'raylet.json'));
  const token = readFileSync(join(node.tempDir, 'state', 'token'), 'utf8').trim();
  const text = await (await fetch(`http://${node.nodeIp}:${raylet.metricsExportPort}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(rayts_\S+) (\S+)$/.exec(line);
    if (m) samples.set(m[1]!.replace(/,?node_(id|ip)="[^"]*"/g, '').replace('{,', '{').replace('{}', ''), Number(m[2]));
  }
  return samples;
}

const FINISHED = 'rayts_task_attempts_ended_total{type="NORMAL_TASK",state="FINISHED"}';
const FAILED = 'rayts_task_attempts_ended_total{type="NORMAL_TASK",state="FAILED"}';
const GRANTED = 'rayts_worker_leases_granted_total';
const HELD = 'rayts_worker_leases{state="HELD"}';

describe('tasks pushed to leased workers', () => {
  it('run on leases the raylet granted, survive a leased worker\'s death, and count once; turned off, they go through the raylet', async () => {
    const cluster = newCluster({ RAYTS_PRESTART_WORKERS: '2' });
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const count = 300;
    const loop = 40;
    const run = await runDriver(cluster, dir, 'tasks/leased_workers.mjs', { address: head.gcsAddress, count, loop, crashMarker: join(dir, 'crashed-once') });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<Workload>(run);
    expect(r).toMatchObject({ batch: count, loop, crashed: 'second attempt', nestedSum: 90, spread: true });
    expect(r.batchPids).toBeGreaterThanOrEqual(1);

    // Every attempt counted once: the batch, the loop, the crash's two attempts (the killed one failed),
    // the nested task and its 10 leaves, and the SPREAD task (the raylet's own count).
    const tasks = count + loop + 1 + 1 + 10 + 1;
    expect(await pollUntil(async () => {
      const m = await scrape(head);
      return m.get(FINISHED) === tasks && m.get(FAILED) === 1 && m.get(HELD) === 0;
    }, 20_000), JSON.stringify([...(await scrape(head)).entries()].filter(([k]) => k.includes('task_attempts') || k.includes('lease')))).toBe(true);
    const granted = (await scrape(head)).get(GRANTED)!;
    // Leased, and reused: far fewer leases than tasks (the batch waits on a few, the loop keeps one).
    expect(granted).toBeGreaterThanOrEqual(1);
    expect(granted).toBeLessThan(tasks / 3);

    const relayed = await runDriver(cluster, dir, 'tasks/leased_workers.mjs', { address: head.gcsAddress, count: 20, loop: 5, crashMarker: join(dir, 'crashed-once') },
      { env: { RAYTS_DIRECT_TASK_SUBMISSION: 'false' } });
    expect(relayed.code, relayed.stderr).toBe(0);
    expect(resultOf<Workload>(relayed)).toMatchObject({ batch: 20, loop: 5, crashed: 'second attempt', nestedSum: 90 });
    // The driver's tasks went through the raylet; the nested task's worker still leases for its 10.
    const more = 20 + 5 + 1 + 1 + 10 + 1;
    expect(await pollUntil(async () => (await scrape(head)).get(FINISHED) === tasks + more, 20_000)).toBe(true);
    expect((await scrape(head)).get(GRANTED)! - granted).toBeLessThanOrEqual(2);
  });

  it('tasks an owner holds back for a lease show in status demands, and go with the owner', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 1, args: ['--resources={"slot": 1}'] });
    const dir = makeUserProject(cluster);
    const tasks = 2000;
    const driver = spawnDriver(cluster, dir, 'tasks/lease_backlog.mjs', { address: head.gcsAddress, tasks });
    const done = collect(driver, 120_000);
    await told(dir, 'submitted', 60_000);
    // One runs on the leased worker; the others wait: the owner's lease requests here plus its backlog.
    const pending = (s: { pendingDemands: unknown[] }) => (s.pendingDemands as { shape: Record<string, number>; count?: number }[])
      .filter((d) => d.shape.slot === 1).reduce((n, d) => n + (d.count ?? 0), 0);
    let seen = 0;
    await cluster.waitForStatus(head.tempDir, (s) => (seen = pending(s)) === tasks - 1, 60_000)
      .catch((e: Error) => { throw new Error(`${e.message}; status showed ${seen} pending`); });
    expect((await scrape(head)).get(HELD)).toBe(1);
    driver.kill('SIGKILL');
    await done;
    expect(await pollUntil(async () => pending(await cluster.statusJson(head.tempDir)) === 0 && (await scrape(head)).get(HELD) === 0, 30_000)).toBe(true);
    expect(alive(head.rayletPid!)).toBe(true);
  });
});
