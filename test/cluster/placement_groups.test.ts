/**
 * Placement groups on real multi-node clusters (127.0.0.1-4, 2 CPUs each): strategies place bundles
 * where they must, tasks aimed at a bundle run on its node, removal frees everything, a group that
 * cannot be placed waits in `rayts status` demands until a node joins, bad input is refused clearly,
 * and `rayts status` folds reservations into the CPU line. After every test the nodes' available
 * resources equal their totals (no leaked reservation) and no process of the test remains.
 */
import { describe, expect, it } from 'vitest';
import { pollUntil } from '@rayts/common';
import { useCluster, type RunResult, type StartedNode, type TestCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let head: StartedNode | undefined;

interface NodeResources {
  nodeId: string;
  nodeIp: string;
  resourcesTotal: Record<string, number>;
  resourcesAvailable: Record<string, number>;
}

/** True when every node's available resources equal its total and no group resource is left. */
function noReservations(nodes: NodeResources[]): boolean {
  return nodes.every((n) => {
    const keys = new Set([...Object.keys(n.resourcesTotal), ...Object.keys(n.resourcesAvailable)]);
    return [...keys].every((k) => !k.includes('_group_') && Math.abs((n.resourcesTotal[k] ?? -1) - (n.resourcesAvailable[k] ?? -2)) < 1e-6);
  });
}

const newCluster = useCluster({
  async beforeCleanup(cluster) {
    try {
      if (head) {
        // No leak: once the drivers are gone every node offers all it has again (reports lag a period).
        let last: unknown;
        const clean = await pollUntil(async () => {
          const s = await cluster.statusJson(head!.tempDir).catch(() => undefined);
          last = s?.nodes.active;
          return !!s && noReservations(s.nodes.active as unknown as NodeResources[]);
        }, 20_000, 200);
        expect(clean, `resources still reserved or in use: ${JSON.stringify(last)}`).toBe(true);
      }
    } finally {
      head = undefined;
    }
  },
});

async function nodes(c: TestCluster, count: number): Promise<StartedNode> {
  const h = await c.startHead({ numCpus: 2 });
  for (let i = 2; i <= count; i++) await c.startWorker(h, { name: `w${i}`, ip: `127.0.0.${i}`, numCpus: 2 });
  // Every raylet must have seen the others in its cluster view (one report round).
  await c.waitForStatus(h.tempDir, (s) => s.nodes.active.length === count);
  return h;
}

/** Fails with what the driver printed (it is still running or just ended) and the last status. */
async function driverFailed(driver: Promise<RunResult>, status: string): Promise<never> {
  const r = await Promise.race([driver, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000).unref())]);
  const log = head ? readFileSync(join(head.sessionDir, 'logs', 'gcs_server.log'), 'utf8').split('\n').slice(-40).join('\n') : '';
  throw new Error(`status never showed the expected line; last status:\n${status}\ndriver: ${r ? `exit ${r.code}\n${r.stdout}\n${r.stderr}` : 'still running'}\nhead log:\n${log}`);
}

/** What settled() in the fixtures answers: resources once nothing is reserved (`timedOut` if never). */
interface Settled { total: Record<string, number>; available: Record<string, number>; timedOut?: true }

/** An error as placement_groups/bad_input.mjs describes it. */
interface CaughtError { cls: string; msg: string; hint?: string }

describe('placement groups', () => {
  it('STRICT_SPREAD and STRICT_PACK place bundles, tasks run on their bundle\'s node, removal frees the CPUs', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    head = await nodes(cluster, 3);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'placement_groups/strict_strategies.mjs');
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{
      before: Settled; spreadNodes: string[]; spreadTasks: string[]; anyBundle: string; afterSpread: Settled;
      packReady: boolean; packNodes: string[]; packTasks: string[]; afterPack: Settled;
    }>(run);
    console.log('STRICT_SPREAD bundles on', r.spreadNodes.map((n: string) => n.slice(0, 8)), 'tasks ran on', r.spreadTasks.map((n: string) => n.slice(0, 8)));
    console.log('STRICT_PACK bundles on', r.packNodes.map((n: string) => n.slice(0, 8)), 'tasks ran on', r.packTasks.map((n: string) => n.slice(0, 8)));
    expect(r.before.timedOut).toBeUndefined();
    expect(new Set(r.spreadNodes).size).toBe(3);
    expect(r.spreadTasks).toEqual(r.spreadNodes);
    expect(r.spreadNodes).toContain(r.anyBundle);
    expect(r.afterSpread.timedOut).toBeUndefined();
    expect(r.afterSpread.total.CPU).toBe(6);
    expect(Object.keys(r.afterSpread.total).filter((k) => k.includes('_group_'))).toEqual([]);
    expect(r.packReady).toBe(true);
    expect(new Set(r.packNodes).size).toBe(1);
    expect(r.packTasks).toEqual(Array(4).fill(r.packNodes[0]));
    expect(r.afterPack.timedOut).toBeUndefined();
    expect(r.afterPack.available.CPU).toBe(6);
  });

  it('STRICT_SPREAD of 4 on 3 nodes waits in status demands until a fourth node joins', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    head = await nodes(cluster, 3);
    const dir = makeUserProject(cluster);
    const driver = runDriver(cluster, dir, 'placement_groups/wait_for_fourth_node.mjs');
    const pendingLine = " {'CPU': 1.0} * 4 (STRICT_SPREAD): 1+ pending placement groups";
    let text = '';
    const listed = await pollUntil(async () => {
      const s = await cluster.rayts(['status', `--temp-dir=${head!.tempDir}`]);
      text = s.stdout;
      return text.split('\n').includes(pendingLine);
    }, 30_000, 200);
    expect(listed, text).toBe(true);
    console.log(text.split('\n').filter((l) => l.includes('placement group')).join('\n'));
    const json = await cluster.statusJson(head.tempDir);
    expect(json.pendingDemands).toContainEqual({
      shape: {}, count: 1, kind: 'placement_group', strategy: 'STRICT_SPREAD', infeasible: false, bundles: [{ shape: { CPU: 1 }, count: 4 }],
    });
    await cluster.startWorker(head, { name: 'w4', ip: '127.0.0.4', numCpus: 2 });
    const run = await driver;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ early: boolean; nodeIds: string[]; ips: string[]; waitedMs: number; after: Settled }>(run);
    console.log(`ready ${r.waitedMs} ms after the wait began; bundles on ${r.ips.join(', ')}`);
    expect(r.early).toBe(false);
    expect(new Set(r.nodeIds).size).toBe(4);
    expect([...r.ips].sort()).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']);
    expect(r.after.timedOut).toBeUndefined();
    const after = await cluster.statusJson(head.tempDir);
    expect(after.pendingDemands).toEqual([]);
  });

  it('bad input gets clear errors; an unknown resource waits as an infeasible demand; nothing crashes', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    head = await nodes(cluster, 1);
    const dir = makeUserProject(cluster);
    const run = runDriver(cluster, dir, 'placement_groups/bad_input.mjs');
    // The driver waits with its infeasible group; read status meanwhile.
    const infeasibleLine = " {'tpu': 1.0} * 1 (PACK): 1+ pending placement groups (infeasible: no node has these resources)";
    let text = '';
    const listed = await pollUntil(async () => {
      const s = await cluster.rayts(['status', `--temp-dir=${head!.tempDir}`]);
      text = s.stdout;
      return s.code === 0 && text.split('\n').includes(infeasibleLine);
    }, 30_000, 200);
    writeFileSync(join(dir, 'continue'), '');
    if (!listed) await driverFailed(run, text);
    const driver = await run;
    expect(driver.code, driver.stderr).toBe(0);
    const r = resultOf<{ errors: Record<string, CaughtError>; inBundle: string; tpuReady: boolean; byNameId: boolean; tpuId: string }>(driver);
    console.log(JSON.stringify(r.errors, null, 1));
    expect(r.errors.negative).toMatchObject({ cls: 'InvalidPlacementGroupError', msg: expect.stringContaining('bundle 0: CPU must be a finite amount >= 0, got -1') });
    expect(r.errors.notFinite).toMatchObject({ cls: 'InvalidPlacementGroupError', msg: expect.stringContaining('bundle 0: CPU must be a finite amount') });
    expect(r.errors.empty).toMatchObject({ cls: 'InvalidPlacementGroupError', msg: expect.stringContaining('the bundle list is empty') });
    expect(r.errors.emptyBundle).toMatchObject({ cls: 'InvalidPlacementGroupError', msg: expect.stringContaining('bundle 0 is empty') });
    expect(r.errors.strategy).toMatchObject({ cls: 'InvalidPlacementGroupError', msg: expect.stringContaining('unknown placement strategy "SIDEWAYS": use one of PACK, SPREAD, STRICT_PACK, STRICT_SPREAD') });
    expect(r.errors.bundleIndex).toMatchObject({ cls: 'InvalidPlacementGroupError', msg: expect.stringContaining('bundleIndex 2 is out of range'), hint: 'use 0..1, or -1 (or leave it out) for any bundle' });
    expect(r.errors.bundleIndexAtSubmit).toMatchObject({ cls: 'InvalidPlacementGroupError', msg: expect.stringContaining('bundleIndex -2 is out of range') });
    expect(r.errors.nameTaken.msg).toContain("a placement group named 'needs-tpu' already exists");
    expect(r.inBundle).toMatch(/^[0-9a-f]{56}$/);
    expect(r.tpuReady).toBe(false);
    expect(r.byNameId).toBe(true);
    // The head and raylet survived all of it, and the driver's end removed its group (no leak: checked after each test).
    const s = await cluster.statusJson(head.tempDir);
    expect(s.nodes.active).toHaveLength(1);
  });

  it('groups made and removed in one turn (sent as one call) each get their own answer', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    head = await nodes(cluster, 2);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'placement_groups/one_turn.mjs');
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{
      first: Record<string, string>; placed: Record<'spread' | 'twin' | 'single', string[]>; removed: number;
      tooBigLater: string; packedOn: string[]; states: string[]; after: Settled;
    }>(run);
    expect(r.first).toEqual({
      spread: 'ready', twin: 'ready', single: 'ready', tooBig: 'pending',
      twinAgain: expect.stringMatching(/^AlreadyExistsError: a placement group named 'twin' already exists/),
    });
    expect(new Set(r.placed.spread).size).toBe(2);
    expect(r.placed.twin).toHaveLength(1);
    expect(r.tooBigLater).toBe('ready');
    expect(new Set(r.packedOn).size).toBe(1);
    expect(r.states).toEqual(['REMOVED', 'REMOVED', 'REMOVED', 'REMOVED']);
    expect(r.after.timedOut).toBeUndefined();
  });

  it('a node holding 100 groups (400 bundle resources in its map) stays in the cluster and is reported whole', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    head = await nodes(cluster, 1);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'placement_groups/many_on_one_node.mjs');
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ ready: number; entries: number; after: Settled }>(run);
    expect(r.ready).toBe(100);
    expect(r.entries).toBeGreaterThanOrEqual(400);
    expect(r.after.timedOut).toBeUndefined();
    // The raylet was not refused (it exited when its report had more than 256 entries).
    const s = await cluster.statusJson(head.tempDir);
    expect(s.nodes.active).toHaveLength(1);
  });

  it('rayts status folds reservations into the CPU line while a group exists', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    head = await nodes(cluster, 2);
    const dir = makeUserProject(cluster);
    // A detached group outlives the driver that made it: one driver creates it and uses one CPU of
    // it in a task that runs until the test has read status, a second driver removes it by name.
    const holder = await runDriver(cluster, dir, 'placement_groups/detached_create.mjs');
    expect(holder.code, holder.stderr).toBe(0);
    const release = join(dir, 'release');
    const runner = runDriver(cluster, dir, 'placement_groups/detached_use.mjs', { release });
    try {
      const foldLine = ' 1.0/4.0 CPU (1.0 used of 2.0 reserved in placement groups)';
      let text = '';
      const folded = await pollUntil(async () => {
        text = (await cluster.rayts(['status', `--temp-dir=${head!.tempDir}`])).stdout;
        return text.split('\n').includes(foldLine);
      }, 30_000, 200);
      if (!folded) await driverFailed(runner, text);
      console.log(text.split('\n').filter((l) => l.includes('CPU')).join('\n'));
      expect(text).not.toContain('_group_');
      const json = await cluster.statusJson(head.tempDir);
      expect(json.usage.CPU).toEqual({ used: 1, total: 4, placementGroups: { used: 1, reserved: 2 } });
    } finally {
      writeFileSync(release, ''); // the task ends (and frees its CPU) only now
    }
    const done = await runner;
    expect(done.code, done.stderr).toBe(0);
    expect(resultOf<{ value: string }>(done).value).toBe('done');
    const remover = await runDriver(cluster, dir, 'placement_groups/detached_remove.mjs');
    expect(remover.code, remover.stderr).toBe(0);
    expect(resultOf<{ after: Settled }>(remover).after.timedOut).toBeUndefined();
  });
});
