/**
 * JobDrivers with real `sh -c` entrypoints, real process groups (checked in /proc), a real local
 * scheduler holding the resources, and real runtime envs from a PackageService in this process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterUnreachableError, groupMembers, nullLogger, pollUntil, runtimeEnvToJson, type JobDriverState, type RuntimeEnv } from '@rayts/common';
import { LocalScheduler } from '../local_scheduler.js';
import { ResourcesUnavailableError } from '../errors.js';
import { JobDrivers, type DriverState } from './job_drivers.js';
import { projectWithLocalDependency, startJobsHarness, type JobsHarness } from './jobs.test_helper.js';

const TOKEN = 'c0ffee'.repeat(8);

let h: JobsHarness;
let drivers: JobDrivers;
let scheduler: LocalScheduler;
let reports: JobDriverState[];

beforeEach(async () => {
  h = await startJobsHarness();
  reports = [];
  // No workers here: only the resources matter.
  scheduler = new LocalScheduler({ total: { CPU: 2, GPU: 2 }, workers: { startWorker: () => false, killWorker: () => undefined }, logger: nullLogger, pipeline: { depth: 0, maxAvgMs: 0, minRuns: 1 } });
  drivers = new JobDrivers({
    paths: h.paths, nodeId: 'node-1', gcsAddress: '127.0.0.1:6379', token: TOKEN, envs: h.envs(), logger: nullLogger,
    resources: { reserve: (s) => scheduler.reserve(s), unreserve: (s, g) => scheduler.unreserve(s, g), fitsNow: (s) => scheduler.canRunNow(s), available: scheduler.available },
    report: async (state) => { reports.push(state); }, retry: { initialMs: 10, maxMs: 50 }, stopGraceMs: 2000,
  });
});
afterEach(async () => {
  await drivers.stopAll();
  await h.close();
});

function start(submissionId: string, entrypoint: string, runtimeEnv: RuntimeEnv = {}, resources: Record<string, number> = {}): DriverState {
  return drivers.start({ submissionId, entrypoint, runtimeEnv, runtimeEnvJson: runtimeEnvToJson(runtimeEnv), resources });
}

const phases = (id: string) => reports.filter((r) => r.submissionId === id).map((r) => r.phase);
const last = (id: string) => reports.filter((r) => r.submissionId === id).at(-1);
const ended = (id: string) => pollUntil(() => ['JOB_DRIVER_EXITED', 'JOB_DRIVER_FAILED_TO_START'].includes(String(last(id)?.phase)), 30_000, 20);
const logOf = (id: string) => readFileSync(h.paths.log(`job-driver-${id}.log`), 'utf8');

describe('JobDrivers', () => {
  it('runs the entrypoint with its output in the job log, and reports PREPARING, RUNNING and the exit code', async () => {
    const first = start('raysubmit_out', 'echo "out $RAYTS_JOB_SUBMISSION_ID on $RAYTS_NODE_ID"; echo "err line" >&2; exit 3');
    expect(first).toMatchObject({ submissionId: 'raysubmit_out', nodeId: 'node-1', phase: 'JOB_DRIVER_PREPARING', logFile: 'job-driver-raysubmit_out.log' });
    expect(await ended('raysubmit_out')).toBe(true);
    expect(phases('raysubmit_out')).toEqual(['JOB_DRIVER_PREPARING', 'JOB_DRIVER_RUNNING', 'JOB_DRIVER_EXITED']);
    expect(last('raysubmit_out')).toMatchObject({ exitCode: 3, signal: '', stopped: false });
    expect(reports.find((r) => r.phase === 'JOB_DRIVER_RUNNING')!.pid).toBeGreaterThan(0);
    expect(logOf('raysubmit_out')).toContain('out raysubmit_out on node-1\n');
    expect(logOf('raysubmit_out')).toContain('err line\n');
    // A second start of the same submission answers its state, it does not run again.
    expect(start('raysubmit_out', 'exit 0').phase).toBe('JOB_DRIVER_EXITED');
    expect(phases('raysubmit_out')).toHaveLength(3);
    // Acknowledged by the head: no longer among the states a registration carries.
    expect(drivers.states().map((s) => s.submissionId)).not.toContain('raysubmit_out');
  });

  it('gives a driver that asks for GPUs their ids in CUDA_VISIBLE_DEVICES, and takes them back when it exits', async () => {
    start('raysubmit_gpu', 'echo "cvd=$CUDA_VISIBLE_DEVICES"', {}, { GPU: 1 });
    start('raysubmit_gpus', 'echo "cvd=$CUDA_VISIBLE_DEVICES"; sleep 0.3', {}, { GPU: 1 });
    expect(scheduler.canRunNow({ GPU: 1 })).toBe(false);
    expect(await ended('raysubmit_gpu')).toBe(true);
    expect(await ended('raysubmit_gpus')).toBe(true);
    expect([logOf('raysubmit_gpu'), logOf('raysubmit_gpus')].map((l) => l.match(/cvd=(.*)/)![1]).sort()).toEqual(['0', '1']);
    expect(scheduler.canRunNow({ GPU: 2 })).toBe(true);
    start('raysubmit_cpu', 'echo "cvd=${CUDA_VISIBLE_DEVICES-unset}"');
    expect(await ended('raysubmit_cpu')).toBe(true);
    // A driver without GPUs sees the variable as the raylet has it.
    expect(logOf('raysubmit_cpu')).toContain(`cvd=${process.env.CUDA_VISIBLE_DEVICES ?? 'unset'}\n`);
  });

  it('runs in the prepared working_dir with the env vars, the address and the token in its environment (not its command line)', async () => {
    const uri = await h.upload(h.project(projectWithLocalDependency({ 'main.cjs': "console.log(require('greeter').greet(process.env.WHO))\n" })));
    start('raysubmit_env', 'pwd; node main.cjs; echo "address=$RAYTS_ADDRESS token=${#RAYTS_TOKEN}"; cat /proc/$$/cmdline | tr "\\0" " "; echo; echo "env=$RAYTS_JOB_RUNTIME_ENV"',
      { working_dir: uri, env_vars: { WHO: 'driver' } });
    expect(await ended('raysubmit_env')).toBe(true);
    expect(last('raysubmit_env')).toMatchObject({ phase: 'JOB_DRIVER_EXITED', exitCode: 0 });
    const log = logOf('raysubmit_env');
    const dir = join(h.paths.dir, 'runtime_resources', 'working_dir', uri.match(/[0-9a-f]{64}/)![0]);
    expect(log).toContain(`${dir}\n`);
    expect(log).toContain('hello driver\n');
    expect(log).toContain(`address=127.0.0.1:6379 token=${TOKEN.length}\n`);
    expect(log).not.toContain(TOKEN);
    expect(log).toContain(`env={"working_dir":"${uri}","env_vars":{"WHO":"driver"}}`);
    expect(log).toMatch(/\[runtime env\] npm ci in /);
    // The driver ended: its runtime env is released, and nobody else holds the package.
    expect(await pollUntil(() => !existsSync(dir), 5000, 20)).toBe(true);
  });

  it('holds the resources while the driver runs; stop kills its whole process group within the grace period and frees them', async () => {
    start('raysubmit_stop', 'sleep 1000 & sleep 1000', {}, { CPU: 1.5 });
    expect(scheduler.available.CPU).toBe(0.5);
    expect(await pollUntil(() => last('raysubmit_stop')?.phase === 'JOB_DRIVER_RUNNING', 10_000, 10)).toBe(true);
    const pid = last('raysubmit_stop')!.pid!;
    expect(await pollUntil(() => groupMembers(pid).length >= 3, 5000, 10)).toBe(true); // sh and both sleeps
    expect(() => start('raysubmit_more', 'true', {}, { CPU: 1 })).toThrow(ResourcesUnavailableError);
    expect(drivers.stop('raysubmit_stop', 2000)).toBe(true);
    expect(await pollUntil(() => groupMembers(pid).length === 0, 2000 + 1500, 20)).toBe(true);
    expect(await ended('raysubmit_stop')).toBe(true);
    expect(last('raysubmit_stop')).toMatchObject({ phase: 'JOB_DRIVER_EXITED', exitCode: -1, signal: 'SIGTERM', stopped: true });
    expect(scheduler.available.CPU).toBe(2);
    expect(drivers.stop('raysubmit_stop', 2000)).toBe(false);
    expect(drivers.stop('never-started', 2000)).toBe(false);
  });

  it('kills a group that ignores SIGTERM with SIGKILL after the grace period', async () => {
    start('raysubmit_stubborn', "trap '' TERM; sleep 1000 & sleep 1000");
    expect(await pollUntil(() => last('raysubmit_stubborn')?.phase === 'JOB_DRIVER_RUNNING', 10_000, 10)).toBe(true);
    const pid = last('raysubmit_stubborn')!.pid!;
    expect(await pollUntil(() => groupMembers(pid).length >= 3, 5000, 10)).toBe(true);
    const stoppedAt = Date.now();
    drivers.stop('raysubmit_stubborn', 300);
    expect(await pollUntil(() => groupMembers(pid).length === 0, 300 + 1500, 20)).toBe(true);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(250);
    expect(await ended('raysubmit_stubborn')).toBe(true);
    expect(last('raysubmit_stubborn')).toMatchObject({ phase: 'JOB_DRIVER_EXITED', signal: 'SIGKILL', stopped: true });
  });

  it('stopAll (the raylet\'s stop) kills every running driver\'s process group, and refuses new starts', async () => {
    start('raysubmit_a', 'sleep 1000 & sleep 1000');
    start('raysubmit_b', "trap '' TERM; sleep 1000");
    expect(await pollUntil(() => phases('raysubmit_a').includes('JOB_DRIVER_RUNNING') && phases('raysubmit_b').includes('JOB_DRIVER_RUNNING'), 10_000, 10)).toBe(true);
    const pids = ['raysubmit_a', 'raysubmit_b'].map((id) => last(id)!.pid!);
    await drivers.stopAll();
    for (const pid of pids) expect(groupMembers(pid)).toEqual([]);
    // Their pid records (which `rayts stop` would sweep) are gone with them.
    expect(pids.every((pid) => !existsSync(join(h.paths.pids, 'workers', `${pid}.json`)))).toBe(true);
    expect(() => start('raysubmit_c', 'true')).toThrow(/is stopping/);
  });

  it('fails to start (FAILED_TO_START, said in the log) when the working_dir package cannot be had, and frees the resources', async () => {
    const missing = `gcs://_rayts_pkg_${'ab'.repeat(32)}.tar.gz`;
    start('raysubmit_bad', 'echo never', { working_dir: missing }, { CPU: 1 });
    expect(await ended('raysubmit_bad')).toBe(true);
    const final = last('raysubmit_bad')!;
    expect(final.phase).toBe('JOB_DRIVER_FAILED_TO_START');
    expect(final.message).toBe(`runtime env setup failed: could not download the working_dir package from the head: the head has no package ${missing}`);
    expect(logOf('raysubmit_bad')).toContain(`[rayts] ${final.message}`);
    expect(logOf('raysubmit_bad')).not.toContain('never');
    expect(scheduler.available.CPU).toBe(2);
  });

  it('a stop while the runtime env is prepared cancels the start', async () => {
    const uri = await h.upload(h.project(projectWithLocalDependency()));
    start('raysubmit_early', 'echo started', { working_dir: uri }, { CPU: 1 });
    expect(drivers.stop('raysubmit_early', 1000)).toBe(true);
    // Ended at once (the head hears it through the report queue).
    expect(drivers.states().find((d) => d.submissionId === 'raysubmit_early')).toMatchObject({ phase: 'JOB_DRIVER_EXITED', stopped: true });
    expect(await ended('raysubmit_early')).toBe(true);
    expect(last('raysubmit_early')).toMatchObject({ phase: 'JOB_DRIVER_EXITED', stopped: true });
    expect(scheduler.available.CPU).toBe(2);
    // The preparation ends (or is cut short) and nothing runs.
    expect(await pollUntil(() => !existsSync(join(h.paths.dir, 'runtime_resources', 'working_dir', uri.match(/[0-9a-f]{64}/)![0])), 10_000, 20)).toBe(true);
    expect(phases('raysubmit_early')).toEqual(['JOB_DRIVER_PREPARING', 'JOB_DRIVER_EXITED']);
    expect(logOf('raysubmit_early')).not.toContain('started');
  });

  it('keeps reporting through a head outage: states() carries a driver until the head took its end', async () => {
    let headUp = false;
    const taken: string[] = [];
    const offline = new JobDrivers({
      paths: h.paths, nodeId: 'node-1', gcsAddress: '127.0.0.1:6379', token: TOKEN, envs: h.envs(), logger: nullLogger,
      resources: { reserve: (s) => scheduler.reserve(s), unreserve: (s, g) => scheduler.unreserve(s, g), fitsNow: (s) => scheduler.canRunNow(s), available: scheduler.available },
      report: async (state) => {
        if (!headUp) throw new ClusterUnreachableError('head restarting');
        taken.push(String(state.phase));
      },
      retry: { initialMs: 10, maxMs: 20 }, stopGraceMs: 1000,
    });
    try {
      offline.start({ submissionId: 'raysubmit_outage', entrypoint: 'exit 7', runtimeEnv: {}, runtimeEnvJson: '', resources: {} });
      expect(await pollUntil(() => offline.states()[0]?.phase === 'JOB_DRIVER_EXITED', 10_000, 10)).toBe(true);
      expect(offline.states()).toMatchObject([{ submissionId: 'raysubmit_outage', exitCode: 7 }]);
      headUp = true;
      expect(await pollUntil(() => taken.includes('JOB_DRIVER_EXITED'), 5000, 10)).toBe(true);
      expect(offline.states()).toEqual([]);
    } finally {
      await offline.stopAll();
    }
  });
});
