/**
 * The raylet's memory monitor on a real one-node cluster. The threshold is set for the test above
 * what the host uses now (used fraction + HEADROOM of the total, read from /proc/meminfo: 4 GiB, or
 * 40 % of what is available on a small host), wide enough that other tests running beside this one
 * do not cross it, so a task that allocates without bound (fixtures/memory/memory_monitor.mjs)
 * crosses it within a few seconds; the task gives up at twice the headroom on its own (plus the
 * host's spare reserved huge pages, which workers' malloc may take without /proc/meminfo counting
 * them as newly used), so a monitor that does not act fails the test instead of eating the host. Checked: `get` rejects with OutOfMemoryError after the OOM retries
 * (RAYTS_TASK_OOM_RETRIES=2, apart from maxRetries), every attempt is OUT_OF_MEMORY in the task
 * events, the raylet and the actor that kept answering are alive, `rayts status` and the raylet log
 * show the kills (so do `rayts list tasks`, `rayts list workers` and the raylet's Prometheus
 * counter); a task whose retry does not allocate succeeds after its first attempt was killed; and an
 * actor with a restart left is killed before a newer task with no retries, then restarts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, afterEach, beforeEach } from 'vitest';
import { TaskEventClient, pollUntil, readTokenFile, taskAttemptFromInfo, type RayletReady, type TaskAttempt } from '@rayts/common';
import { alive, collect, readJsonFile, useCluster, type StartedNode, type TestCluster } from '../helpers/cluster.js';
import { acquireHostMemory } from '../helpers/host_memory.js';
import { makeUserProject, resultOf, runDriver, spawnDriver, told } from '../helpers/driver.js';

const newCluster = useCluster();
const GIB = 1024 ** 3;

function meminfo(): { total: number; available: number; spareHugePages: number } {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { total: kb('MemTotal'), available: kb('MemAvailable'), spareHugePages: (kb('HugePages_Free') / 1024) * kb('Hugepagesize') };
}

const HEADROOM = Math.min(4 * GIB, 0.4 * meminfo().available);
/**
 * Where the task gives up: twice the headroom of memory the monitor sees, plus what it may take unseen.
 * With `glibc.malloc.hugetlb=2` (set for workers while reserved huge pages are spare) the task's
 * buffers come from the reserved pool first, which /proc/meminfo counted as used when it was
 * reserved: a host with 5 GiB of spare pages let an 8 GiB task finish unkilled.
 */
function limitBytes(): number {
  return Math.floor(2 * HEADROOM + meminfo().spareHugePages);
}

/** The host's used fraction now plus `headroom` bytes of its total, as the monitor reads /proc/meminfo. */
function thresholdAbove(headroom: number): string {
  const { total, available } = meminfo();
  return ((total - available + headroom) / total).toFixed(4);
}

interface Ran {
  jobId: string;
  value?: { grewBytes: number; pid: number; retry: boolean };
  error?: { name: string; isOom: boolean; message: string };
  pingsWhileRunning: number;
  pingAfter: number;
  actorPid: number;
}

async function start(): Promise<{ cluster: TestCluster; head: StartedNode }> {
  const cluster = newCluster({
    RAYTS_MEMORY_USAGE_THRESHOLD: thresholdAbove(HEADROOM), RAYTS_MEMORY_MONITOR_REFRESH_MS: '100', RAYTS_TASK_OOM_RETRIES: '2',
  });
  const head = await cluster.startHead({ numCpus: 2 });
  return { cluster, head };
}

/** The job's attempts of `name` once `count` of them ended (FINISHED or FAILED), as the head stores them. */
async function attemptsOf(head: StartedNode, jobId: string, name: string, count: number): Promise<TaskAttempt[]> {
  const client = new TaskEventClient(head.gcsAddress, { token: readTokenFile(join(head.tempDir, 'state', 'token')), timeoutMs: 10_000 });
  let attempts: TaskAttempt[] = [];
  try {
    await pollUntil(async () => {
      attempts = (await client.getTaskEvents({ jobId })).attempts.map(taskAttemptFromInfo).filter((a) => a.name === name);
      return attempts.filter((a) => a.state === 'FINISHED' || a.state === 'FAILED').length >= count;
    }, 30_000, 200);
  } finally {
    client.close();
  }
  return attempts.sort((a, b) => a.attemptNumber - b.attemptNumber);
}

describe('memory monitor', () => {
  // The thresholds these tests set depend on the host's memory in use: no memory-hungry test may run meanwhile.
  let release: (() => void) | undefined;
  beforeEach(async () => { release = await acquireHostMemory(); }, 660_000);
  afterEach(() => { release?.(); release = undefined; });

  it('kills the task that exhausts memory until its OOM retries are spent; the raylet and an actor live; status and the log say so', async () => {
    const { cluster, head } = await start();
    const dir = makeUserProject(cluster);
    // maxRetries 1: the 2 OOM retries do not spend it, so there are 3 attempts, not 2.
    const run = await runDriver(cluster, dir, 'memory/memory_monitor.mjs', { address: head.gcsAddress, limitBytes: limitBytes(), maxRetries: 1 });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<Ran>(run);
    expect(r.value, 'the task was never killed: it gave up at its limit').toBeUndefined();
    expect(r.error).toMatchObject({ name: 'OutOfMemoryError', isOom: true });
    for (const part of [head.nodeIp, 'threshold of', 'pid=', 'grow', 'reduce parallelism', 'add memory']) expect(r.error!.message).toContain(part);
    // The actor kept answering through the kills and after.
    expect(r.pingsWhileRunning).toBeGreaterThan(0);
    expect(r.pingAfter).toBe(r.pingsWhileRunning + 1);

    const attempts = await attemptsOf(head, r.jobId, 'grow', 3);
    expect(attempts.map((a) => [a.attemptNumber, a.state, a.errorType])).toEqual([
      [0, 'FAILED', 'OUT_OF_MEMORY'], [1, 'FAILED', 'OUT_OF_MEMORY'], [2, 'FAILED', 'OUT_OF_MEMORY'],
    ]);
    const killedPids = attempts.map((a) => a.workerPid!);
    expect(killedPids).not.toContain(r.actorPid);
    expect(alive(head.rayletPid)).toBe(true);

    // `rayts list tasks` shows the same attempts; `rayts list workers` the killed workers' exit type.
    const list = async (what: string) => {
      const out = await cluster.rayts(['list', what, '--format=json', '--limit=10000', `--temp-dir=${head.tempDir}`]);
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout) as Record<string, unknown>[];
    };
    const listed = (await list('tasks')).filter((t) => t.name === 'grow').map((t) => [t.attempt_number, t.error_type]).sort();
    expect(listed).toEqual([[0, 'OUT_OF_MEMORY'], [1, 'OUT_OF_MEMORY'], [2, 'OUT_OF_MEMORY']]);
    const workers = await list('workers');
    for (const pid of killedPids) {
      expect(workers.find((w) => w.pid === pid), JSON.stringify(workers)).toMatchObject({ is_alive: false, exit_type: 'NODE_OUT_OF_MEMORY' });
    }

    // `rayts status`: the kills under Recent failures, with the memory at the time.
    const status = await cluster.rayts(['status', `--address=${head.gcsAddress}`]);
    expect(status.code, status.stderr).toBe(0);
    const lines = status.stdout.split('\n').filter((l) => l.includes('OutOfMemory'));
    expect(lines, status.stdout).toHaveLength(3);
    for (const pid of killedPids) expect(status.stdout).toContain(`worker pid ${pid} running task grow`);
    expect(lines[0]).toMatch(/killed by the memory monitor at [\d.]+[KMGT]?i?B \/ [\d.]+[KMGT]?i?B used \(threshold 0\.\d+\)/);
    const json = JSON.parse((await cluster.rayts(['status', '--json', `--address=${head.gcsAddress}`])).stdout) as { recentOomKills: unknown[] };
    expect(json.recentOomKills).toHaveLength(3);

    // The raylet's Prometheus endpoint counts the kills.
    const raylet = readJsonFile<RayletReady>(join(head.sessionDir, 'raylet.json'));
    const token = readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim();
    const metrics = await (await fetch(`http://${head.nodeIp}:${raylet.metricsExportPort}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/rayts_memory_monitor_worker_kills_total\{[^}]*type="NORMAL_TASK"[^}]*\} 3\n/);
    expect(metrics).toMatch(/rayts_memory_monitor_worker_kills_total\{[^}]*type="ACTOR"[^}]*\} 0\n/);

    // The raylet log: one warning per kill, with the same facts.
    const log = readFileSync(join(head.sessionDir, 'logs', 'raylet.log'), 'utf8').split('\n').filter((l) => l.includes('memory monitor killed a worker'));
    expect(log).toHaveLength(3);
    for (const pid of killedPids) expect(log.some((l) => l.includes(String(pid)) && l.includes('grow') && l.includes('usedBytes'))).toBe(true);
  });

  it('kills a restartable actor before a newer task with no retries; the task finishes, the actor restarts', async () => {
    const { cluster, head } = await start();
    const dir = makeUserProject(cluster);
    const releaseFile = join(dir, 'release');
    const driver = spawnDriver(cluster, dir, 'memory/actor_oom.mjs', { address: head.gcsAddress, limitBytes: limitBytes(), releaseFile });
    const done = collect(driver, 120_000);
    const { actorPid } = await told<{ actorPid: number }>(dir, 'started');
    const killLines = () => readFileSync(join(head.sessionDir, 'logs', 'raylet.log'), 'utf8').split('\n').filter((l) => l.includes('memory monitor killed a worker'));
    const killed = await pollUntil(() => killLines().length > 0, 60_000, 50);
    writeFileSync(releaseFile, '');
    const run = await done;
    expect(killed, run.stderr).toBe(true);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ grow: { value?: string; error?: string }; taskPid: number; actorPid: number; restartedPid: number }>(run);
    expect(r.grow.value, 'the actor was never killed: it gave up at its limit').toBeUndefined();
    expect(r.taskPid).toBeGreaterThan(0);
    expect(r.restartedPid).toBeGreaterThan(0);
    expect(r.restartedPid).not.toBe(actorPid);
    const lines = killLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(String(actorPid));
    expect(lines[0]).not.toContain(String(r.taskPid));
  });

  it('a task killed once succeeds on its retry when the pressure is gone', async () => {
    const { cluster, head } = await start();
    const dir = makeUserProject(cluster);
    const markerFile = join(dir, 'first-attempt');
    const run = await runDriver(cluster, dir, 'memory/memory_monitor.mjs', { address: head.gcsAddress, limitBytes: limitBytes(), markerFile, maxRetries: 1 });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<Ran>(run);
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ retry: true, grewBytes: 0 });
    const firstPid = Number(readFileSync(markerFile, 'utf8'));
    const attempts = await attemptsOf(head, r.jobId, 'grow', 2);
    expect(attempts.map((a) => [a.attemptNumber, a.state, a.errorType ?? ''])).toEqual([[0, 'FAILED', 'OUT_OF_MEMORY'], [1, 'FINISHED', '']]);
    expect(attempts[0]!.workerPid).toBe(firstPid);
    expect(alive(head.rayletPid)).toBe(true);
  });
});
