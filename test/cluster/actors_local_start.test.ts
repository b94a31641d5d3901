/**
 * An actor created where its creator runs starts on that node's raylet at once (issue 4, speed of an
 * actor's start): the raylet constructs it while the head registers it, and the head's creation call
 * joins that construction. The test pauses the head (SIGSTOP) to show what does and does not need it:
 * an unnamed actor answers its first call while the head is paused; a named one waits for the head
 * (its name might be taken); each constructor runs exactly once; the head then records each actor
 * ALIVE on the creator's node; a name refused by the head drops the actor the raylet started.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pollUntil } from '@rayts/common';
import { TestCluster, alive } from '../helpers/cluster.js';
import { SIGNALS, makeUserProject, resultOf, runDriver, told } from '../helpers/driver.js';

let cluster: TestCluster;
let headPid: number | undefined;
afterEach(async () => {
  if (headPid && alive(headPid)) process.kill(headPid, 'SIGCONT');
  headPid = undefined;
  const { leftover } = await cluster.cleanup();
  expect(leftover).toEqual([]);
});

/** Processes whose title is `rayts::<className>` (an actor's worker sets it). */
function actorProcesses(className: string): number {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.trim() === `rayts::${className}`).length;
}

describe('actors started on the creator\'s node', () => {
  it('an unnamed actor answers while the head is paused, a named one waits for it; each constructor runs once', async () => {
    cluster = new TestCluster();
    const head = await cluster.startHead({ numCpus: 4 });
    headPid = head.headPid!;
    const dir = makeUserProject(cluster);
    const driver = runDriver(cluster, dir, `
      ${SIGNALS}
      import * as ray from 'rayts';
      await ray.init({ address: 'auto' });
      const Tally = ray.remote({ numCpus: 0 }, class Tally {
        constructor(log) { process.getBuiltinModule('node:fs').appendFileSync(log, process.pid + '\\n'); }
        pid() { return process.pid; }
      });
      // Warm the pool: 8 tasks of 300 ms on 4 CPUs need all 4 workers up; then they are idle. (An
      // actor starts on the creator's node at once only when an idle worker is there.)
      const nap = ray.remote(async () => { await new Promise((r) => setTimeout(r, 300)); return process.pid; });
      await ray.get(Array.from({ length: 8 }, () => nap.remote()));
      const first = Tally.remote(process.cwd() + '/first.log');
      tell('warm', { pid: await ray.get(first.pid.remote()) });
      await waitFor('paused');
      const unnamed = Tally.remote(process.cwd() + '/unnamed.log');
      const unnamedPid = await ray.get(unnamed.pid.remote(), { timeout: 30 });
      const named = Tally.options({ name: 'late' }).remote(process.cwd() + '/named.log');
      const namedRef = named.pid.remote();
      const [readyWhilePaused] = await ray.wait([namedRef], { timeout: 1.5 });
      tell('paused-results', { unnamedPid, namedReadyWhilePaused: readyWhilePaused.length });
      await waitFor('resumed');
      const namedPid = await ray.get(namedRef, { timeout: 30 });
      // A name the head refuses: the actor the raylet started for it is dropped.
      const twin = Tally.options({ name: 'late' }).remote(process.cwd() + '/twin.log');
      let refused = '';
      try { await ray.get(twin.pid.remote(), { timeout: 30 }); } catch (e) { refused = e.constructor.name + ': ' + e.message; }
      const deadline = Date.now() + 20000;
      let actors = await ray.listActors({ includeDead: false });
      while (actors.filter((a) => a.state === 'ALIVE').length < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        actors = await ray.listActors({ includeDead: false });
      }
      const nodeId = ray.getRuntimeContext().nodeId;
      const byId = (h) => actors.find((a) => a.actorId === h.actorId);
      console.log('RESULT ' + JSON.stringify({
        unnamedPid, namedPid, refused, nodeId,
        unnamed: byId(unnamed), named: byId(named),
      }));
      await waitFor('checked');
      await ray.shutdown();
    `);
    // What the driver tells, or its output if it ends first.
    const ask = <T>(name: string) => Promise.race([told<T>(dir, name),
      driver.then((r) => Promise.reject(new Error(`the driver exited (${r.code}) before telling '${name}':\n${r.stdout}\n${r.stderr}`)))]);
    const warm = await ask<{ pid: number }>('warm');
    expect(alive(warm.pid)).toBe(true);
    process.kill(headPid, 'SIGSTOP');
    let paused: { unnamedPid: number; namedReadyWhilePaused: number };
    try {
      writeFileSync(join(dir, 'paused'), '');
      paused = await ask('paused-results');
    } finally {
      process.kill(headPid, 'SIGCONT');
    }
    writeFileSync(join(dir, 'resumed'), '');
    // The unnamed actor answered with the head stopped; the named one's call had to wait for it.
    expect(alive(paused.unnamedPid)).toBe(true);
    expect(paused.namedReadyWhilePaused).toBe(0);
    // The refused twin's worker goes (its class title is the same; only the two live actors remain).
    expect(await pollUntil(() => actorProcesses('Tally') === 3, 20_000, 100)).toBe(true);
    writeFileSync(join(dir, 'checked'), '');
    const run = await driver;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.unnamedPid).toBe(paused.unnamedPid);
    expect(r.refused).toMatch(/^ActorDiedError: .*an actor named 'late' already exists/);
    // The head placed both where the raylet started them, with the pids that answered.
    expect(r.unnamed).toMatchObject({ state: 'ALIVE', nodeId: r.nodeId, pid: r.unnamedPid });
    expect(r.named).toMatchObject({ state: 'ALIVE', nodeId: r.nodeId, pid: r.namedPid });
    // Each constructor ran once: the head's creation joined the raylet's, it did not start another.
    const lines = (name: string) => readFileSync(join(dir, name), 'utf8').trim().split('\n');
    expect(lines('unnamed.log')).toEqual([String(r.unnamedPid)]);
    expect(lines('named.log')).toEqual([String(r.namedPid)]);
    expect(lines('first.log')).toEqual([String(warm.pid)]);
  });
});
