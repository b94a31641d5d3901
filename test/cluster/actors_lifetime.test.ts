/**
 * Actor lifetimes across processes and failures. A named detached actor outlives its driver and is
 * found by another; an actor whose node dies restarts on another node; across a head SIGKILL and
 * restart a detached actor keeps answering and keeps its table entry, and a non-detached actor whose
 * driver exited while the head was down is cleaned up. After each test every CPU is free again.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { FAST_HEALTH, alive, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver, told } from '../helpers/driver.js';
import { onNodeOnly } from '../helpers/via_client.js';

let headTempDir: string | undefined;
const newCluster = useCluster({
  async beforeCleanup(cluster) {
    // No leaked resources: once the test's actors are gone every CPU is free again.
    const usage = headTempDir ? (await cluster.waitForStatus(headTempDir, (s) => s.usage.CPU?.used === 0, 20_000).catch(() => undefined)) : undefined;
    headTempDir = undefined;
    expect(usage?.usage.CPU?.used).toBe(0);
  },
});

/** An entry of ray.listActors() as the fixtures report it. */
interface ActorInfo { actorId: string; name?: string; state: string; pid: number; numRestarts: number; deathCause?: string }

describe('actor lifetimes', () => {
  it('a named detached actor outlives its driver; getActor finds it from another driver; after kill it is gone', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    headTempDir = head.tempDir;
    const first = await runDriver(cluster, makeUserProject(cluster, 'first'), 'actors/detached_create.mjs');
    expect(first.code, first.stderr).toBe(0);
    const { keeperPid, tempPid, tempId } = resultOf<{ keeperPid: number; tempPid: number; tempId: string }>(first);
    // The non-detached actor died with its driver; the detached one lives on.
    expect(await pollUntil(() => !alive(tempPid), 15_000)).toBe(true);
    expect(alive(keeperPid)).toBe(true);

    const second = await runDriver(cluster, makeUserProject(cluster, 'second'), 'actors/detached_find.mjs', { tempId });
    expect(second.code, second.stderr).toBe(0);
    const r = resultOf<{
      value: number; temp: ActorInfo; wrongNamespace: string;
      afterKill: { name: string; message: string }; call: { name: string; cause: string; message: string };
    }>(second);
    expect(r.value).toBe(6);
    expect(r.temp.state).toBe('DEAD');
    expect(r.temp.deathCause).toBe('OWNER_DIED');
    expect(r.wrongNamespace).toBe('ActorNotFoundError');
    expect(r.afterKill.name).toBe('ActorNotFoundError');
    expect(r.afterKill.message).toContain("no live actor is named 'keeper' in namespace 'shop'");
    expect(r.call.name).toBe('ActorDiedError');
    expect(r.call.cause).toBe('KILLED');
    expect(r.call.message).toContain('killed by ray.kill()');
    expect(await pollUntil(() => !alive(keeperPid), 10_000)).toBe(true);
  });

  it('an actor whose node dies restarts on another node (maxRestarts -1)', async () => {
    const cluster = newCluster({ ...FAST_HEALTH, RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2 });
    headTempDir = head.tempDir;
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const dir = makeUserProject(cluster);
    const driver = runDriver(cluster, dir, 'actors/node_death_restart.mjs', { address: head.gcsAddress });
    const placed = await told<{ before: string; w2: string }>(dir, 'placed');
    expect(placed.before).toBe(placed.w2);
    process.kill(w2.rayletPid, 'SIGKILL');
    writeFileSync(join(dir, 'killed'), '');
    const run = await driver;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ before: string; after: string; w2: string; restarts: number; state: string; unavailable: string[] }>(run);
    expect(r.after).not.toBe(r.w2);
    expect(r.restarts).toBe(1);
    expect(r.state).toBe('ALIVE');
    expect(r.unavailable.length).toBeLessThanOrEqual(1);
  });

  onNodeOnly('a remote client\'s session lives in the head process, so a head restart ends it (docs/architecture.md, "Remote drivers")')(
    'head SIGKILL and restart: a detached actor answers throughout; an orphaned non-detached actor is cleaned up', async () => {
    const cluster = newCluster({ ...FAST_HEALTH, RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2 });
    headTempDir = head.tempDir;
    const port = head.gcsAddress.split(':')[1]!;
    // Driver A: creates a detached actor and calls it continuously until told to stop.
    const dirA = makeUserProject(cluster, 'caller');
    const caller = runDriver(cluster, dirA, 'actors/detached_caller.mjs', { address: head.gcsAddress });
    // Driver B: owns a non-detached actor and exits while the head is down.
    const dirB = makeUserProject(cluster, 'owner');
    const owner = runDriver(cluster, dirB, 'actors/owner_exits.mjs', { address: head.gcsAddress });
    const a = await told<{ pid: number; actorId: string }>(dirA, 'ready');
    const b = await told<{ pid: number; actorId: string }>(dirB, 'ready');

    process.kill(head.headPid!, 'SIGKILL');
    expect(await pollUntil(() => !alive(head.headPid!), 5000)).toBe(true);
    writeFileSync(join(dirB, 'exit'), '');
    expect((await owner).code).toBe(0);
    // The orphan lives on while nobody can tell the head about its owner.
    expect(alive(b.pid)).toBe(true);

    const restart = await cluster.rayts(['start', '--head', `--port=${port}`, '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`]);
    expect(restart.code, restart.stderr).toBe(0);
    // The restarted head learns from the re-registering raylet that B's job is gone, and kills its actor.
    expect(await pollUntil(() => !alive(b.pid), 30_000)).toBe(true);
    writeFileSync(join(dirA, 'stop'), '');
    const run = await caller;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ calls: number; failures: number; last: number; info: ActorInfo }>(run);
    expect(r.failures).toBe(0);
    expect(r.calls).toBeGreaterThan(10);
    expect(r.last).toBe(r.calls);
    expect(r.info.state).toBe('ALIVE');
    expect(r.info.pid).toBe(a.pid);
    expect(r.info.numRestarts).toBe(0);
    expect(r.info.name).toBe('keeper');
    const log = readFileSync(join(head.sessionDir, 'logs', 'gcs_server.log'), 'utf8');
    expect(log).toMatch(/"job ended while the head was out of contact"/);
    expect(log).toContain(b.actorId);
  });
});
