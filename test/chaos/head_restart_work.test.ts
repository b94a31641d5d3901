/**
 * Issue 16: a head restart must be invisible to new work.
 * - While a backlog of 400 tasks runs on two nodes the head is SIGKILLed and started again on the same
 *   state dir; a task of a known function submitted during the outage and the first task of a
 *   function never seen before finish soon after the head answers again. The figure was 28 s: they
 *   waited behind the whole backlog of the same resource shape (docs/architecture.md, "Head restarts").
 * - Calls that need the head, made while it is down (actor creation, named-actor lookup, placement
 *   groups, the function table), wait for it and go through after the restart; when the head stays
 *   away past RAYTS_GCS_RECONNECT_TIMEOUT_S they fail with an error that says so.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { alive, collect, useCluster, type StartedNode, type TestCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, spawnDriver, told } from '../helpers/driver.js';

const newCluster = useCluster();

interface Settled { ok: boolean; value?: unknown; error?: string; at: number }

async function startTwoNodes(cluster: TestCluster): Promise<[StartedNode, StartedNode]> {
  const head = await cluster.startHead({ numCpus: 2 });
  const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
  await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
  return [head, w2];
}

/** SIGKILLs the head, tells the driver in `dir`, and waits until every raylet noticed the outage. */
async function killHead(head: StartedNode, nodes: StartedNode[], dir: string): Promise<void> {
  process.kill(head.headPid!, 'SIGKILL');
  expect(await pollUntil(() => !alive(head.headPid!), 5000)).toBe(true);
  writeFileSync(join(dir, 'killed'), '');
  // The raylets' links to the head are in reconnect (as after the issue's 5 s outage) before it comes back.
  for (const n of nodes) {
    const log = join(n.sessionDir, 'logs', 'raylet.log');
    expect(await pollUntil(() => readFileSync(log, 'utf8').includes('"lost contact with the head"'), 30_000)).toBe(true);
  }
}

/** Starts the head again (same temp dir and port); returns when it answered (Date.now()). */
async function restartHead(cluster: TestCluster, head: StartedNode): Promise<number> {
  const port = head.gcsAddress.split(':')[1]!;
  const restart = await cluster.rayts(['start', '--head', `--port=${port}`, '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`]);
  expect(restart.code, restart.stderr).toBe(0);
  return Date.now();
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

describe('head restart and new work', () => {
  it('a new function after the restart and a known one submitted during the outage finish soon after the head answers', async () => {
    const cluster = newCluster();
    const [head, w2] = await startTwoNodes(cluster);
    const dir = makeUserProject(cluster);
    const run = collect(spawnDriver(cluster, dir, 'chaos/new_work_across_restart.mjs', { address: head.gcsAddress, tasks: 400, taskMs: 250 }), 240_000);
    await told(dir, 'running');

    await killHead(head, [head, w2], dir);
    const restartedAt = await restartHead(cluster, head);
    writeFileSync(join(dir, 'restarted.tmp'), JSON.stringify({ at: restartedAt }));
    renameSync(join(dir, 'restarted.tmp'), join(dir, 'restarted'));

    const out = resultOf<{ firstNew: Settled; duringOutage: Settled; backlogDone: number; backlogEnd: number; backlogDoneBeforeRestart: number }>(await run);
    const newMs = out.firstNew.at - restartedAt;
    const outageMs = out.duringOutage.at - restartedAt;
    console.log(`head restart under a backlog of 400 tasks: the first task of a new function finished ${seconds(newMs)} after the head answered again; `
      + `a known function's task submitted during the outage ${outageMs < 0 ? `finished during the outage (${seconds(-outageMs)} before)` : `${seconds(outageMs)} after`}; `
      + `${out.backlogDoneBeforeRestart} backlog tasks finished before the head answered again, the last ${seconds(out.backlogEnd - restartedAt)} after`);
    expect(out.firstNew.value).toBe(43);
    expect(out.duringOutage.value).toBe(42);
    expect(out.backlogDone).toBe(400);
    // Was 28 s (behind the backlog); the goal is 2 s, asserted loosely for a loaded machine.
    expect(newMs).toBeLessThan(10_000);
    expect(outageMs).toBeLessThan(10_000);
  });

  it('an actor, a named-actor lookup, a placement group and a new function asked for while the head is down go through after the restart', async () => {
    const cluster = newCluster();
    const [head, w2] = await startTwoNodes(cluster);
    const dir = makeUserProject(cluster);
    const run = collect(spawnDriver(cluster, dir, 'chaos/calls_during_outage.mjs', { address: head.gcsAddress, cleanup: true }), 180_000);
    await told(dir, 'ready');
    await killHead(head, [head, w2], dir);
    await told(dir, 'submitted');
    const restartedAt = await restartHead(cluster, head);

    const out = resultOf<Record<'unnamedActor' | 'namedActor' | 'lookup' | 'placementGroup' | 'newFunction', Settled> & { submittedAt: number }>(await run);
    const figures = (['unnamedActor', 'namedActor', 'lookup', 'placementGroup', 'newFunction'] as const)
      .map((k) => `${k} ${out[k].ok ? 'answered' : 'FAILED'} ${seconds(out[k].at - restartedAt)} after the restart`);
    console.log(`calls made while the head was down: ${figures.join('; ')}`);
    expect(out.unnamedActor).toMatchObject({ ok: true, value: 1 });
    expect(out.namedActor).toMatchObject({ ok: true, value: 1 });
    expect(out.lookup).toMatchObject({ ok: true, value: 2 });
    expect(out.placementGroup).toMatchObject({ ok: true, value: 'ready' });
    expect(out.newFunction).toMatchObject({ ok: true, value: 42 });
    // The named actor and the lookup needed the head: they answered after it came back.
    expect(out.namedActor.at).toBeGreaterThanOrEqual(restartedAt - 1000);
    expect(out.lookup.at).toBeGreaterThanOrEqual(restartedAt - 1000);
    // Room for a loaded machine: each call is bounded at 75 s in the driver, so a call that never
    // answers shows as its GetTimeoutError above rather than as this test's timeout.
  }, 240_000);

  it('with the head gone past RAYTS_GCS_RECONNECT_TIMEOUT_S those calls fail with an error that says the head did not come back', async () => {
    const cluster = newCluster();
    const [head, w2] = await startTwoNodes(cluster);
    const dir = makeUserProject(cluster);
    // Only the driver waits 3 s; the raylets keep their 60 s.
    const run = collect(spawnDriver(cluster, dir, 'chaos/calls_during_outage.mjs', { address: head.gcsAddress }, { env: { RAYTS_GCS_RECONNECT_TIMEOUT_S: '3' } }), 180_000);
    await told(dir, 'ready');
    await killHead(head, [head, w2], dir);

    const out = resultOf<Record<'namedActor' | 'lookup' | 'placementGroup' | 'newFunction', Settled> & { submittedAt: number }>(await run);
    const gaveUp = /the head at 127\.0\.0\.1:\d+ did not come back within 3 s \(RAYTS_GCS_RECONNECT_TIMEOUT_S\)/;
    expect(out.namedActor.error).toMatch(/^ActorDiedError: .*the actor could not be created: registering actor \w+: /);
    expect(out.lookup.error).toMatch(/^HeadUnavailableError: looking up actor 'keeper' in namespace '\w*': /);
    expect(out.placementGroup.error).toMatch(/^HeadUnavailableError: creating a placement group: /);
    expect(out.newFunction.error).toMatch(/^TaskUnschedulableError: .*storing fn\/\w+ in the head's kv: /);
    for (const k of ['namedActor', 'lookup', 'placementGroup', 'newFunction'] as const) {
      expect(out[k].ok).toBe(false);
      expect(out[k].error).toMatch(gaveUp);
      // They waited for the head, about the timeout, before giving up.
      expect(out[k].at - out.submittedAt).toBeGreaterThanOrEqual(2500);
    }
  });
});
