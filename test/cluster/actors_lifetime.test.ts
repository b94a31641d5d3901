/**
 * Issue 4, acceptance 3, 5, 6: actor lifetimes across processes and failures. A named detached actor
 * outlives its driver and is found by another; an actor whose node dies restarts on another node;
 * across a head SIGKILL and restart a detached actor keeps answering and keeps its table entry, and a
 * non-detached actor whose driver exited while the head was down is cleaned up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { FAST_HEALTH, TestCluster, alive } from '../helpers/cluster.js';
import { SIGNALS, makeUserProject, resultOf, runDriver, told } from '../helpers/driver.js';

let cluster: TestCluster;
let headTempDir: string | undefined;
afterEach(async () => {
  // No leaked resources: once the test's actors are gone every CPU is free again.
  const usage = headTempDir ? (await cluster.waitForStatus(headTempDir, (s) => s.usage.CPU?.used === 0, 20_000).catch(() => undefined)) : undefined;
  headTempDir = undefined;
  const { leftover } = await cluster.cleanup();
  expect(usage?.usage.CPU?.used).toBe(0);
  expect(leftover).toEqual([]);
});

describe('actor lifetimes', () => {
  it('a named detached actor outlives its driver; getActor finds it from another driver; after kill it is gone', async () => {
    cluster = new TestCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    headTempDir = head.tempDir;
    const first = await runDriver(cluster, makeUserProject(cluster, 'first'), `
      import * as ray from 'rayts';
      await ray.init({ address: 'auto' });
      const Counter = ray.remote(class Counter { n = 0; inc() { return ++this.n; } pid() { return process.pid; } });
      const keeper = Counter.options({ name: 'keeper', namespace: 'shop', lifetime: 'detached' }).remote();
      for (let i = 0; i < 5; i++) await ray.get(keeper.inc.remote());
      const temp = Counter.remote();
      await ray.get(temp.inc.remote());
      console.log('RESULT ' + JSON.stringify({ keeperPid: await ray.get(keeper.pid.remote()), tempPid: await ray.get(temp.pid.remote()), tempId: temp.actorId }));
      await ray.shutdown();
    `);
    expect(first.code, first.stderr).toBe(0);
    const { keeperPid, tempPid, tempId } = resultOf(first);
    // The non-detached actor died with its driver; the detached one lives on.
    expect(await pollUntil(() => !alive(tempPid), 15_000)).toBe(true);
    expect(alive(keeperPid)).toBe(true);

    const second = await runDriver(cluster, makeUserProject(cluster, 'second'), `
      import * as ray from 'rayts';
      await ray.init({ address: 'auto' });
      const keeper = await ray.getActor('keeper', { namespace: 'shop' });
      const value = await ray.get(keeper.inc.remote());
      const temp = (await ray.listActors()).find((a) => a.actorId === ${JSON.stringify(tempId)});
      let wrongNamespace;
      try { await ray.getActor('keeper'); } catch (e) { wrongNamespace = e.name; }
      await ray.kill(keeper);
      let afterKill;
      try { await ray.getActor('keeper', { namespace: 'shop' }); afterKill = 'found'; } catch (e) { afterKill = { name: e.name, message: e.message }; }
      let call;
      try { await ray.get(keeper.inc.remote()); call = 'ok'; } catch (e) { call = { name: e.name, cause: e.deathCause, message: e.message }; }
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ value, temp, wrongNamespace, afterKill, call }));
    `);
    expect(second.code, second.stderr).toBe(0);
    const r = resultOf(second);
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
    cluster = new TestCluster({ ...FAST_HEALTH, RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2 });
    headTempDir = head.tempDir;
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const dir = makeUserProject(cluster);
    const driver = runDriver(cluster, dir, `
      import * as ray from 'rayts';
      ${SIGNALS}
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const w2 = (await ray.nodes()).find((n) => n.Alive && n.NodeManagerAddress === '127.0.0.2').NodeID;
      const Node = ray.remote(class Node { async node() { return (await import('rayts')).getRuntimeContext().nodeId; } });
      const a = Node.options({ maxRestarts: -1, scheduling: { nodeId: w2, soft: true } }).remote();
      const before = await ray.get(a.node.remote());
      tell('placed', { before, w2 });
      await waitFor('killed');
      // A call sent before the cluster noticed the death fails as ActorUnavailableError (maxTaskRetries
      // is 0); the caller tries again, as Ray's docs advise, until the restarted actor answers.
      const unavailable = [];
      let after;
      while (!after) {
        try { after = await ray.get(a.node.remote(), { timeout: 60 }); } catch (e) { if (e.name !== 'ActorUnavailableError') throw e; unavailable.push(e.name); }
      }
      const info = (await ray.listActors()).find((x) => x.actorId === a.actorId);
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ before, after, w2, restarts: info.numRestarts, state: info.state, unavailable }));
    `);
    const placed = await told<{ before: string; w2: string }>(dir, 'placed');
    expect(placed.before).toBe(placed.w2);
    process.kill(w2.rayletPid, 'SIGKILL');
    writeFileSync(join(dir, 'killed'), '');
    const run = await driver;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.after).not.toBe(r.w2);
    expect(r.restarts).toBe(1);
    expect(r.state).toBe('ALIVE');
    expect(r.unavailable.length).toBeLessThanOrEqual(1);
  });

  it('head SIGKILL and restart: a detached actor answers throughout; an orphaned non-detached actor is cleaned up', async () => {
    cluster = new TestCluster({ ...FAST_HEALTH, RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2 });
    headTempDir = head.tempDir;
    const port = head.gcsAddress.split(':')[1]!;
    // Driver A: creates a detached actor and calls it continuously until told to stop.
    const dirA = makeUserProject(cluster, 'caller');
    const caller = runDriver(cluster, dirA, `
      import * as ray from 'rayts';
      ${SIGNALS}
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const Keeper = ray.remote(class Keeper { n = 0; inc() { return ++this.n; } pid() { return process.pid; } });
      const k = Keeper.options({ name: 'keeper', lifetime: 'detached' }).remote();
      const pid = await ray.get(k.pid.remote());
      tell('ready', { pid, actorId: k.actorId });
      let calls = 0, failures = 0, last = 0;
      while (!existsSync('stop')) {
        try { last = await ray.get(k.inc.remote(), { timeout: 5 }); calls++; } catch (e) { failures++; }
        await new Promise((r) => setTimeout(r, 10));
      }
      const info = (await ray.listActors()).find((x) => x.actorId === k.actorId);
      await ray.kill(k);
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ calls, failures, last, info }));
    `);
    // Driver B: owns a non-detached actor and exits while the head is down.
    const dirB = makeUserProject(cluster, 'owner');
    const owner = runDriver(cluster, dirB, `
      import * as ray from 'rayts';
      ${SIGNALS}
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const Temp = ray.remote(class Temp { pid() { return process.pid; } });
      const t = Temp.remote();
      tell('ready', { pid: await ray.get(t.pid.remote()), actorId: t.actorId });
      await waitFor('exit');
      process.exit(0);
    `);
    const a = await told<{ pid: number; actorId: string }>(dirA, 'ready');
    const b = await told<{ pid: number; actorId: string }>(dirB, 'ready');

    process.kill(head.headPid!, 'SIGKILL');
    expect(await pollUntil(() => !alive(head.headPid!), 5000)).toBe(true);
    writeFileSync(join(dirB, 'exit'), '');
    expect((await owner).code).toBe(0);
    // The orphan lives on while nobody can tell the head about its owner.
    expect(alive(b.pid)).toBe(true);

    const restart = await cluster.rayts(['start', '--head', `--port=${port}`, '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`]);
    expect(restart.code, restart.stderr).toBe(0);
    // The restarted head learns from the re-registering raylet that B's job is gone, and kills its actor.
    expect(await pollUntil(() => !alive(b.pid), 30_000)).toBe(true);
    writeFileSync(join(dirA, 'stop'), '');
    const run = await caller;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
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
