/**
 * Actors on real clusters: calls apply in order per caller (callers on the actor's node talk to its
 * worker directly, callers on another node go through the raylets), async methods overlap up to
 * maxConcurrency, an actor restarts after SIGKILL with and without call retries, and bad input gets
 * a clear error. After each test every CPU is free again and no process of the test is left.
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

const newCluster = useCluster();

/** What the fixtures report after their actors are gone: CPUs in total and available (equal: no leak). */
interface CpuLeak { totalCpu: number; availableCpu: number }

/** What actors/restart_after_kill.mjs reports for one maxTaskRetries setting. */
interface RestartRun {
  inflightResult: string; pidChanged: boolean; afterRestart: number; restarts: number;
  state: string; deathCause: string; later: string[]; ctorRuns: number;
}

/** An error as actors/bad_input.mjs describes it. */
interface CaughtError { name: string; message: string; hint?: string; cause?: string }

describe('actors', () => {
  it('Counter: calls apply in order per caller, from this node and from another node', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2 });
    await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'actors/counter_callers.mjs', { address: head.gcsAddress });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ tenth: number; value: number; log: Record<string, number[]>; ips: string[]; leak: CpuLeak }>(run);
    expect(r.tenth).toBe(10);
    expect(r.value).toBe(10);
    const inOrder = Array.from({ length: 100 }, (_, i) => i);
    expect(r.log.a).toEqual(inOrder);
    expect(r.log.b).toEqual(inOrder);
    expect(new Set(r.ips).size).toBe(2); // one caller relayed through the raylets, one direct
    expect(r.leak.availableCpu).toBe(r.leak.totalCpu);
  });

  it('async methods overlap up to maxConcurrency; a sync class runs calls one at a time', async () => {
    const cluster = newCluster();
    await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'actors/concurrency.mjs');
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ eight: number; asyncDefault: number; one: number; sync: number }>(run);
    expect(r.eight).toBe(8);
    expect(r.asyncDefault).toBe(16); // Ray's default for classes with async methods is 1000
    expect(r.one).toBe(1);
    expect(r.sync).toBe(1);
  });

  it('restarts after SIGKILL: constructor runs again, in-flight calls fail or retry, a second kill leaves it DEAD', async () => {
    const cluster = newCluster();
    await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'actors/restart_after_kill.mjs');
    expect(run.code, run.stderr).toBe(0);
    const { out, leak } = resultOf<{ out: Record<string, RestartRun>; leak: CpuLeak }>(run);
    expect(['ActorDiedError', 'ActorUnavailableError']).toContain(out[0].inflightResult);
    expect(out[1].inflightResult).toBe('done');
    for (const k of ['0', '1']) {
      expect(out[k].pidChanged).toBe(true);
      expect(out[k].afterRestart).toBe(1); // a new instance: the constructor ran again
      expect(out[k].ctorRuns).toBe(2);
      expect(out[k].restarts).toBe(1);
      expect(out[k].state).toBe('DEAD');
      expect(out[k].deathCause).toBe('WORKER_DIED');
      for (const l of out[k].later) expect(l).toMatch(/^ActorDiedError: WORKER_DIED: .*killed by SIGKILL/);
    }
    expect(leak.availableCpu).toBe(leak.totalCpu);
  });

  it('bad input: unknown method, throwing constructor, duplicate name, bad options; the cluster keeps serving', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'actors/bad_input.mjs');
    expect(run.code, run.stderr).toBe(0);
    const { errors, stillServing, leak } = resultOf<{ errors: Record<string, CaughtError>; stillServing: number; leak: CpuLeak }>(run);
    expect(errors.method.name).toBe('ActorMethodNotFoundError');
    expect(errors.method.message).toContain("Counter has no method 'decrement'");
    expect(errors.method.hint).toContain('inc');
    expect(errors.ctor.name).toBe('ActorDiedError');
    expect(errors.ctor.message).toContain('RangeError: bad start value 42');
    expect(errors.ctor.cause).toBe('bad start value 42');
    expect(errors.ctorAgain.name).toBe('ActorDiedError');
    expect(errors.duplicate.message).toContain("an actor named 'dup' already exists in namespace 'ns'");
    expect(errors.badOption.name).toBe('ActorOptionsError');
    expect(errors.negativeCpu.name).toBe('ActorOptionsError');
    expect(stillServing).toBe(2);
    expect(leak.availableCpu).toBe(leak.totalCpu);
    const status = await cluster.statusJson(head.tempDir);
    expect(status.nodes.active.length).toBe(1);
  });
});
