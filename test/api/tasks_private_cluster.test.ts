/**
 * Tasks on one machine: a user's own script imports 'rayts', `init()` with no cluster starts a
 * private one, tasks run (nested too, with import('rayts') inside), errors come back with Ray's
 * classes, cancel and wait behave as in Ray, and after `shutdown` (or the driver's death) nothing of
 * the private cluster is left.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';
import { describeOnNodeOnly } from '../helpers/via_client.js';

const newCluster = useCluster();

/** What tasks/task_errors.mjs reports: each failure's error class and the attempts it took. */
interface TaskErrors {
  taskError: { cls: string; isRayTaskError: boolean; taskName: string; remoteMessage: string; remoteName: string; stackHasFn: boolean; causeCls: string; pid: number; ip: string };
  noRetry: { cls: string; msg: string };
  twoRetries: string;
  attempts0: number;
  attempts2: number;
  flaky: string;
  appNoRetry: number;
  appRetry: number;
  badReturn: { cls: string; msg: string };
  afterBad: number;
  closure: { cls: string; msg: string };
  timeout: string;
}

/** The private cluster's temp dir, as the driver's init line names it (other tests start private clusters at the same time). */
function privateDirOf(stderr: string): string {
  const dir = /Started a local rayts instance \(head [^,]+, temp dir (\S+);/.exec(stderr)?.[1];
  if (!dir) throw new Error(`the driver did not say where its private cluster lives:\n${stderr}`);
  return dir;
}

describeOnNodeOnly('a remote client never starts a private cluster')('a driver with no cluster running', () => {
  it('starts a private cluster, runs tasks, and leaves nothing after shutdown', async () => {
    const cluster = newCluster();
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/private_cluster.mjs');
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ values: number[]; chained: number; nested: number; jobId: string; pid: number }>(run);
    expect(r.values).toEqual(Array.from({ length: 20 }, (_, i) => i * i));
    expect(r.chained).toBe(81);
    expect(r.nested).toBe(55);
    expect(r.jobId).toMatch(/^[0-9a-f]{8}$/);
    // init said what it did, once, as Ray does ("Started a local Ray instance.").
    expect(run.stderr.split('\n').filter((l) => l.startsWith('Started a local rayts instance (head 127.0.0.1:'))).toHaveLength(1);
    // Nothing of the private cluster is left: processes (by the inherited marker) and its temp dir.
    expect(cluster.processes()).toEqual([]);
    const privateDir = privateDirOf(run.stderr);
    expect(privateDir.startsWith(`${tmpdir()}/rayts-local-`)).toBe(true);
    expect(existsSync(privateDir)).toBe(false);
  });

  it('a killed driver takes its private cluster down with it', async () => {
    const cluster = newCluster();
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/killed_driver.mjs');
    expect(run.signal).toBe('SIGKILL');
    expect(resultOf<{ ok: boolean }>(run).ok).toBe(true);
    const { pollUntil } = await import('@rayts/common');
    expect(await pollUntil(() => cluster.processes().length === 0, 20_000)).toBe(true);
    // …and its temp dir.
    const privateDir = privateDirOf(run.stderr);
    expect(await pollUntil(() => !existsSync(privateDir), 10_000)).toBe(true);
  });
});

describe('task errors', () => {
  it('RayTaskError, worker crashes with retries, non-serializable results, closures', async () => {
    const cluster = newCluster();
    const dir = makeUserProject(cluster);
    const attemptsFile = `${cluster.root}/attempts`;
    const run = await runDriver(cluster, dir, 'tasks/task_errors.mjs', { attemptsFile });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<TaskErrors>(run);
    expect(r.taskError).toMatchObject({ cls: 'RayTaskError', isRayTaskError: true, taskName: 'validateInput', remoteMessage: 'x must be >= 0, got -1', remoteName: 'RangeError', stackHasFn: true, causeCls: 'RangeError', ip: '127.0.0.1' });
    expect(r.taskError.pid).toBeGreaterThan(0);
    expect(r.noRetry.cls).toBe('WorkerCrashedError');
    expect(r.noRetry.msg).toContain('exited with code 3');
    expect(r.attempts0).toBe(1);
    expect(r.twoRetries).toBe('WorkerCrashedError');
    expect(r.attempts2).toBe(3);
    expect(r.flaky).toBe('survived');
    expect(r.appNoRetry).toBe(1);
    expect(r.appRetry).toBe(3);
    expect(r.badReturn.cls).toBe('TaskSerializationError');
    expect(r.badReturn.msg).toMatch(/function at .*handler/);
    expect(r.afterBad).toBe(5);
    expect(r.closure.cls).toBe('ClosureError');
    expect(r.closure.msg).toContain("'factor'");
    expect(r.timeout).toBe('GetTimeoutError');
  });

  it('cancel drops a queued task and kills a running one with force', async () => {
    const cluster = newCluster();
    const dir = makeUserProject(cluster);
    // One CPU, so that the second task waits in the queue (through rayts://: a 1-CPU head and a node without CPUs).
    const run = await runDriver(cluster, dir, 'tasks/cancel.mjs', { started: cluster.root + '/started' }, { clientCluster: { headCpus: 1, workerCpus: 0 } });
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf<unknown>(run)).toEqual({ errors: ['TaskCancelledError', 'TaskCancelledError'], workerAlive: false, neverStarted: true, after: 'still works' });
  });

  it('short tasks pipelined onto a busy worker never wait behind a task that blocks on them', async () => {
    const cluster = newCluster();
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/pipelined_nested.mjs', {}, { timeoutMs: 90_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf<{ total: number }>(run).total).toBe(100 + 4 + 4);
  });

  it('extra workers started while others were blocked are reaped when idle', async () => {
    const cluster = newCluster({ RAYTS_PRESTART_WORKERS: '2' });
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/blocked_workers.mjs', { address: head.gcsAddress, workersDir: head.sessionDir + '/pids/workers' });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ got: number[]; peak: number }>(run);
    expect(r.got).toEqual([4, 4, 4, 4]);
    expect(r.peak).toBeGreaterThan(2);
    const { readdirSync } = await import('node:fs');
    const { pollUntil } = await import('@rayts/common');
    expect(await pollUntil(() => readdirSync(`${head.sessionDir}/pids/workers`).length === 2, 20_000)).toBe(true);
  });

  it('wait returns refs in completion order and honours its timeout', async () => {
    const cluster = newCluster();
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/wait_order.mjs', { dir: cluster.root });
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf<unknown>(run)).toEqual({ none: 0, pending: 2, first: true, order: ['b', 'a'] });
  });
});

