/**
 * An actor created where its creator runs starts on that node's raylet at once (so its first call
 * does not wait for the head): the raylet constructs it while the head registers it, and the head's
 * creation call joins that construction. The test pauses the head (SIGSTOP) to show what does and
 * does not need it: an unnamed actor answers its first call while the head is paused; a named one
 * waits for the head (its name might be taken); each constructor runs exactly once; the head then
 * records each actor ALIVE on the creator's node; a name refused by the head drops the actor the
 * raylet started. A worker that dies before the head confirmed its actor counts as a worker death
 * (restart within maxRestarts), not as a failed constructor.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pollUntil } from '@rayts/common';
import { alive, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver, told } from '../helpers/driver.js';

let headPid: number | undefined;
const newCluster = useCluster({
  beforeCleanup() {
    if (headPid && alive(headPid)) process.kill(headPid, 'SIGCONT');
    headPid = undefined;
  },
});

/** An entry of ray.listActors() as actors/local_start.mjs reports it. */
interface ActorInfo { state: string; nodeId: string; pid: number }

/** Processes whose title is `rayts::<className>` (an actor's worker sets it). */
function actorProcesses(className: string): number {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.trim() === `rayts::${className}`).length;
}

/**
 * Starts a driver fixture on a head of `numCpus` CPUs whose raylet keeps that many workers (the
 * tests' default pool is 1, and idle workers beyond it are stopped after a second: actors created
 * while the head is paused need idle workers). `ask` waits for what the driver tells, or fails with
 * its output if it ends first.
 */
async function startPausable(fixture: string, numCpus: number) {
  const cluster = newCluster({ RAYTS_PRESTART_WORKERS: String(numCpus) });
  const head = await cluster.startHead({ numCpus });
  headPid = head.headPid!;
  const dir = makeUserProject(cluster);
  const driver = runDriver(cluster, dir, fixture);
  const ask = <T>(name: string) => Promise.race([told<T>(dir, name),
    driver.then((r) => Promise.reject(new Error(`the driver exited (${r.code}) before telling '${name}':\n${r.stdout}\n${r.stderr}`)))]);
  return { headPid: headPid!, dir, driver, ask };
}

describe('actors started on the creator\'s node', () => {
  it('an unnamed actor answers while the head is paused, a named one waits for it; each constructor runs once', async () => {
    const { headPid, dir, driver, ask } = await startPausable('actors/local_start.mjs', 4);
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
    const r = resultOf<{ unnamedPid: number; namedPid: number; refused: string; nodeId: string; unnamed: ActorInfo; named: ActorInfo }>(run);
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

  it('an actor whose worker dies before the head confirmed it restarts within maxRestarts', async () => {
    const { headPid, dir, driver, ask } = await startPausable('actors/crash_before_confirm.mjs', 2);
    await ask('warm');
    process.kill(headPid, 'SIGSTOP');
    try {
      writeFileSync(join(dir, 'paused'), '');
      const started = await ask<{ pid: number }>('started');
      // Killed while the head, paused, has not confirmed the actor yet.
      process.kill(started.pid, 'SIGKILL');
      expect(await pollUntil(() => !alive(started.pid), 5000)).toBe(true);
    } finally {
      process.kill(headPid, 'SIGCONT');
    }
    writeFileSync(join(dir, 'resumed'), '');
    const run = await driver;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ before: number; after?: number; error?: string; info?: { state: string; numRestarts: number; deathCause?: string }; constructions: number }>(run);
    expect(r.error).toBeUndefined();
    expect(r.after).not.toBe(r.before);
    expect(r.info?.state).toBe('ALIVE');
    expect(r.info?.numRestarts).toBe(1);
    expect(r.constructions).toBe(2);
  });
});
