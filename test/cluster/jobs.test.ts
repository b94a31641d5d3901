/**
 * Submitted jobs as a Ray user runs them, from a directory outside the repository, on a head and a
 * worker node: `rayts job submit --working-dir ./app -- node main.js` streams the logs and exits 0;
 * the driver imports its working_dir's modules and so do its tasks on both nodes; a failing
 * entrypoint ends FAILED (exit 1); `stop` ends a long job STOPPED with nothing of its process group
 * left and its CPUs free; a second submit of the same working_dir uploads nothing; a working_dir
 * with a package-lock.json runs `npm ci` once per node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, readProcStat } from '@rayts/common';
import { TestCluster, type StartedNode } from '../helpers/cluster.js';
import { api, copyJobFixture, JOB_FIXTURES, jobOf, waitForJob, TERMINAL } from '../helpers/jobs.js';
import { awaitSpread, makeUserProject, runDriver, resultOf as driverResult } from '../helpers/driver.js';

const STOP_GRACE_MS = 2000;

let cluster: TestCluster;
let head: StartedNode;
let worker: StartedNode;

/** `rayts job ARGS` from the cluster's temp root (outside the repo), against the head's API. */
const job = (command: string, ...args: string[]) => cluster.rayts(['job', command, `--address=${head.dashboardUrl}`, ...args], {}, 180_000);

function resultOf<T>(text: string): T {
  const line = text.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line in:\n${text}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

async function packageBytesReceived(): Promise<number> {
  const r = await api(head, '/metrics');
  expect(r.status).toBe(200);
  const m = /^rayts_job_package_received_bytes_total(?:\{[^}]*\})? (\S+)$/m.exec(r.text);
  if (!m) throw new Error('the head exports no rayts_job_package_received_bytes_total');
  return Number(m[1]);
}

/** How many times the node ran `npm ci` for the package at `uri` (its raylet logs each run). */
function npmRunsIn(node: StartedNode, uri: string): number {
  const log = readFileSync(join(node.sessionDir, 'logs', 'raylet.log'), 'utf8');
  return log.split('\n').filter((l) => l.includes('"npm ci in ') && l.includes(uri)).length;
}

beforeAll(async () => {
  cluster = new TestCluster({ RAYTS_JOB_STOP_GRACE_MS: String(STOP_GRACE_MS) });
  head = await cluster.startHead({ numCpus: 2 });
  worker = await cluster.startWorker(head, { name: 'worker', ip: '127.0.0.2', numCpus: 2 });
  copyJobFixture(cluster, 'app');
  copyJobFixture(cluster, 'npm_app');
  // Spreading needs each raylet to know the other node (from the head, within a report period).
  expect(await awaitSpread(cluster, head.gcsAddress, 2)).toEqual(['127.0.0.1', '127.0.0.2']);
}, 120_000);

afterAll(async () => {
  await cluster?.cleanup();
}, 60_000);

describe('rayts job submit', () => {
  it('runs a working_dir on both nodes: logs stream, exit 0, SUCCEEDED; status, logs and list show it after', async () => {
    const r = await job('submit', '--working-dir', './app', '--submission-id', 'app-1', '--runtime-env-json', '{"env_vars":{"JOB_GREETING":"hi"}}', '--', 'node', 'main.js');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`Job submission server address: ${head.dashboardUrl}`);
    expect(r.stdout).toContain("Job 'app-1' submitted successfully");
    // The driver's own output, streamed while it ran.
    expect(r.stdout).toContain("hello from the job's own module, driver");
    expect(r.stdout).toMatch(/first half: 0,1,8,27,64,125,216,343/);
    expect(r.stdout).toContain("Job 'app-1' succeeded");
    const result = resultOf<{ cubes: number[]; nodeIps: string[]; cwds: string[]; env: string[]; driverCwd: string; driverEnv: string | null; jobId: string }>(r.stdout);
    expect(result.cubes).toEqual(Array.from({ length: 16 }, (_, i) => i ** 3));
    expect(result.nodeIps, 'tasks ran on both nodes').toEqual(['127.0.0.1', '127.0.0.2']);
    expect(result.env, 'env_vars reach every worker').toEqual(['hi']);
    expect(result.driverEnv, 'and the driver').toBe('hi');
    // Every worker ran in the job's unpacked working_dir on its node, not in the directory it was submitted from.
    for (const cwd of [...result.cwds, result.driverCwd]) {
      expect(cwd).toMatch(/runtime_resources\/working_dir\/[0-9a-f]{64}$/);
      expect(cwd.startsWith(cluster.root + '/app')).toBe(false);
    }

    const status = await job('status', 'app-1');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain("Job 'app-1' succeeded");
    const logs = await job('logs', 'app-1');
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain("hello from the job's own module, driver");
    expect(logs.stdout).toContain('RESULT ');
    const list = await job('list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { submission_id: string; status: string; job_id: string | null }[];
    expect(rows.find((j) => j.submission_id === 'app-1')).toMatchObject({ status: 'SUCCEEDED', job_id: result.jobId });
    // `rayts logs job` reads the same driver log (by submission id or by the driver's job id).
    for (const id of ['app-1', result.jobId]) {
      const viaLogs = await cluster.rayts(['logs', 'job', '--id', id, `--address=${head.dashboardUrl}`]);
      expect(viaLogs.code, viaLogs.stderr).toBe(0);
      expect(viaLogs.stdout).toContain('RESULT ');
    }
  }, 240_000);

  it('a second submit of the same working_dir uploads nothing', async () => {
    const before = await packageBytesReceived();
    expect(before, 'the first submit uploaded the package').toBeGreaterThan(0);
    const r = await job('submit', '--working-dir', './app', '--submission-id', 'app-2', '--', 'node', 'main.js');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/already on the head/);
    expect(await packageBytesReceived()).toBe(before);
  }, 240_000);

  it('a failing entrypoint ends FAILED with exit 1 and a message', async () => {
    const r = await job('submit', '--submission-id', 'fails-1', '--', 'node', '-e', "console.error('something broke'); process.exit(3)");
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('something broke');
    const j = await jobOf(head, 'fails-1');
    expect(j).toMatchObject({ status: 'FAILED', driver_exit_code: 3, error_type: 'JOB_ENTRYPOINT_COMMAND_ERROR' });
    expect(j.message).toContain('exit code 3');
    const status = await job('status', 'fails-1');
    expect(status.stdout).toContain('exit code 3');
  }, 120_000);

  it('stop ends a long job STOPPED within the grace period + 2 s, its process group gone and its CPUs free', async () => {
    // The entrypoint and its child ignore SIGTERM: only the SIGKILL after the grace period ends them.
    const r = await job('submit', '--no-wait', '--submission-id', 'long-1', '--entrypoint-num-cpus', '1', '--', 'sh', '-c', "trap '' TERM; sleep 1000 & wait");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const running = await waitForJob(head, 'long-1', (j) => j.status === 'RUNNING');
    const pgid = Number(running.driver_info!.pid);
    expect(pgid).toBeGreaterThan(0);
    const group = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => readProcStat(pid)?.pgid === pgid && readProcStat(pid)?.state !== 'Z');
    await pollUntil(() => group().length >= 2, 10_000, 50);
    expect(group().length, 'the shell and its sleep run in the job\'s process group').toBeGreaterThanOrEqual(2);
    await cluster.waitForStatus(head.tempDir, (s) => s.usage.CPU?.used === 1);

    const stop = await api(head, '/api/jobs/long-1/stop', { method: 'POST', body: '' });
    expect(stop.status, stop.text).toBe(200);
    expect(stop.json).toEqual({ stopped: true });
    const stopped = await pollUntil(async () => TERMINAL.has((await jobOf(head, 'long-1')).status), STOP_GRACE_MS + 2000, 50);
    expect(stopped, 'STOPPED within the grace period + 2 s').toBe(true);
    expect((await jobOf(head, 'long-1')).status).toBe('STOPPED');
    expect(group(), 'no process of the job\'s group is left').toEqual([]);
    await cluster.waitForStatus(head.tempDir, (s) => (s.usage.CPU?.used ?? 0) === 0);
    const cli = await job('status', 'long-1');
    expect(cli.stdout + cli.stderr).toMatch(/was stopped/);
  }, 120_000);

  it('stop ends the job\'s actors with it (a detached one lives on)', async () => {
    const r = await job('submit', '--no-wait', '--working-dir', './app', '--submission-id', 'actors-1', '--', 'node', 'actor_main.js');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await waitForJob(head, 'actors-1', (j) => j.status === 'RUNNING');
    let logs = '';
    expect(await pollUntil(async () => {
      logs = ((await api(head, '/api/jobs/actors-1/logs')).json as { logs: string }).logs;
      return logs.includes('ACTORS ');
    }, 60_000, 100), logs).toBe(true);
    const actors = JSON.parse(logs.split('\n').find((l) => l.startsWith('ACTORS '))!.slice('ACTORS '.length)) as { held: number; detached: number; jobId: string };
    const stop = await job('stop', 'actors-1');
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect((await jobOf(head, 'actors-1')).status).toBe('STOPPED');
    expect(await pollUntil(() => readProcStat(actors.held) === undefined || readProcStat(actors.held)?.state === 'Z', 15_000, 50), 'the job\'s actor process is gone').toBe(true);
    const rows = ((await api(head, `/api/v0/actors?filter=job_id%3D${actors.jobId}&detail=true`)).json as { result: { name: string; state: string }[] }).result;
    expect(rows.find((a) => !a.name)?.state, 'the job\'s own actor').toBe('DEAD');
    expect(rows.find((a) => a.name === 'outlives-its-job')?.state).toBe('ALIVE');
    expect(readProcStat(actors.detached)?.state).not.toBe('Z');
  }, 120_000);

  it('an npm ci that fails ends the job FAILED with npm\'s error in its log and message', async () => {
    copyJobFixture(cluster, 'broken_npm_app');
    const r = await job('submit', '--working-dir', './broken_npm_app', '--submission-id', 'npm-broken', '--', 'node', 'main.js');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const j = await jobOf(head, 'npm-broken');
    expect(j).toMatchObject({ status: 'FAILED', error_type: 'RUNTIME_ENV_SETUP_FAILURE' });
    expect(j.message).toMatch(/npm ci failed/);
    const logs = ((await api(head, '/api/jobs/npm-broken/logs')).json as { logs: string }).logs;
    expect(logs).toMatch(/package\.json and package-lock\.json .*in sync/);
    expect(logs).not.toContain('the driver ran');
  }, 120_000);

  it('a working_dir with a package-lock.json that depends on a file: package runs npm ci once per node; tasks import it on both nodes', async () => {
    const uris: string[] = [];
    for (const id of ['npm-1', 'npm-2']) {
      // The second submit is an edited working_dir: another package, the same package-lock.json.
      if (id === 'npm-2') writeFileSync(join(cluster.root, 'npm_app', 'notes.txt'), 'edited since the first submit');
      const r = await job('submit', '--working-dir', './npm_app', '--submission-id', id, '--', 'node', 'main.js');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const result = resultOf<{ driver: string; answers: string[]; nodeIps: string[] }>(r.stdout);
      expect(result).toEqual({ driver: 'localdep answers', answers: ['localdep answers'], nodeIps: ['127.0.0.1', '127.0.0.2'] });
      uris.push(String((await jobOf(head, id)).runtime_env.working_dir));
    }
    expect(uris[0]).not.toBe(uris[1]);
    const runs = (node: StartedNode) => uris.reduce((n, uri) => n + npmRunsIn(node, uri), 0);
    expect(runs(head), 'npm ci on the head node').toBe(1);
    expect(runs(worker), 'npm ci on the worker node').toBe(1);
  }, 300_000);

  it('the same runtime env works from ray.init({ runtimeEnv }) in a driver started by hand', async () => {
    const dir = makeUserProject(cluster, 'by-hand');
    cpSync(join(JOB_FIXTURES, 'app', 'lib'), join(dir, 'wd', 'lib'), { recursive: true });
    cpSync(join(JOB_FIXTURES, 'app', 'package.json'), join(dir, 'wd', 'package.json'));
    const run = await runDriver(cluster, dir, 'jobs/init_runtime_env.mjs', { address: head.gcsAddress });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = driverResult<{ cubes: number[]; nodeIps: string[]; cwds: string[]; env: string[]; jobId: string }>(run);
    expect(result.cubes).toEqual([0, 1, 8, 27, 64, 125, 216, 343]);
    expect(result.nodeIps).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(result.env).toEqual(['yes']);
    for (const cwd of result.cwds) expect(cwd).toMatch(/runtime_resources\/working_dir\/[0-9a-f]{64}$/);
    // The head lists it as a driver job with its runtime env.
    const job = await jobOf(head, result.jobId);
    expect(job).toMatchObject({ type: 'DRIVER', status: 'SUCCEEDED' });
    expect(String(job.runtime_env.working_dir)).toMatch(/^gcs:\/\/_rayts_pkg_[0-9a-f]{64}\.tar\.gz$/);
  }, 180_000);
});
