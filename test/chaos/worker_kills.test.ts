/**
 * Worker kills under load: while a driver runs tasks and calls two actors, the test SIGKILLs a
 * random busy worker of the node every 300 ms, 10 times. Nothing is lost within retries (every task
 * gives its value; every call on the actor with maxTaskRetries -1 completes; calls on the one with 0
 * complete or fail with the actor-death errors only), no CPU stays taken, and once the cluster is
 * stopped no process of it is left.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { alive, collect, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, spawnDriver, told } from '../helpers/driver.js';

const newCluster = useCluster();

type Outcome = { ok: number } | { pid: number } | { error: string; message: string };

/** Worker processes of the node now (their pid files), not counting the prestarted idle ones is not possible from outside: all of them. */
function workerPids(sessionDir: string): number[] {
  return readdirSync(join(sessionDir, 'pids', 'workers')).map((f) => Number(f.replace('.json', ''))).filter((p) => alive(p));
}

/** A worker that runs something now (its process title is not rayts::IDLE). */
function busy(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('rayts::IDLE');
  } catch {
    return false;
  }
}

describe('worker kills under load', () => {
  it('tasks and actor calls survive 10 SIGKILLs of busy workers; nothing leaks', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 4 });
    const dir = makeUserProject(cluster);
    const done = collect(spawnDriver(cluster, dir, 'chaos/worker_kills.mjs', { tasks: 300, calls: 60 }), 300_000);
    await told(dir, 'ready', 120_000);
    writeFileSync(join(dir, 'go'), '');
    const killed: number[] = [];
    let finished = false;
    void done.then(() => { finished = true; }, () => { finished = true; });
    for (let k = 0; k < 10 && !finished; k++) {
      const started = Date.now();
      await pollUntil(() => Date.now() - started >= 300, 1000, 20);
      const candidates = workerPids(head.sessionDir).filter(busy);
      const victim = candidates[Math.floor(Math.random() * candidates.length)];
      if (victim === undefined) continue;
      try { process.kill(victim, 'SIGKILL'); killed.push(victim); } catch { /* already gone */ }
    }
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ ms: number; tasks: Outcome[]; retried: Outcome[]; plain: Outcome[] }>(run);
    const errors = (xs: Outcome[]) => xs.filter((x): x is { error: string; message: string } => 'error' in x);
    const restarts = (xs: Outcome[]) => new Set(xs.filter((x): x is { pid: number } => 'pid' in x).map((x) => x.pid)).size - 1;
    console.log(`worker kills: ${killed.length} workers killed in ${r.ms} ms; tasks lost ${errors(r.tasks).length}/300; ` +
      `actor (maxTaskRetries -1) lost ${errors(r.retried).length}/60, ${restarts(r.retried)} restarts; ` +
      `actor (maxTaskRetries 0) failed ${errors(r.plain).length}/60 (${[...new Set(errors(r.plain).map((e) => e.error))].join(', ') || 'none'}), ${restarts(r.plain)} restarts`);
    expect(killed.length).toBeGreaterThan(0);
    expect(errors(r.tasks), 'tasks lost').toEqual([]);
    expect(r.tasks.map((x) => (x as { ok: number }).ok)).toEqual(Array.from({ length: 300 }, (_, i) => i * 2));
    expect(errors(r.retried), 'calls lost on the actor that retries them').toEqual([]);
    for (const e of errors(r.plain)) expect(['ActorDiedError', 'ActorUnavailableError']).toContain(e.error);
    // No CPU stays taken once the driver is gone.
    const status = await cluster.waitForStatus(head.tempDir, (s) => s.usage.CPU?.used === 0, 60_000);
    console.log(`leaked CPUs: ${status.usage.CPU!.used}`);
    // Stopping the node leaves no process of it (useCluster's cleanup checks that nothing survived SIGKILL;
    // here nothing may survive a plain stop).
    const stop = await cluster.rayts(['stop', `--temp-dir=${head.tempDir}`]);
    expect(stop.code, stop.stderr).toBe(0);
    const orphans = await pollUntil(() => cluster.processes().length === 0, 30_000, 100);
    console.log(`orphans after stop: ${cluster.processes().length}`);
    expect(orphans).toBe(true);
  }, 300_000);
});
