/**
 * The state API as a Ray user reaches it: `rayts list|get|summary|timeline|logs` against a head and
 * a worker node while a driver holds tasks' results, an actor, a placement group and objects.
 * Checked against what the driver itself saw (ids, nodes, workers, pids). One workload serves
 * every check; the driver holds everything until the test is done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { pollUntil } from '@rayts/common';
import { TestCluster, collect, type StartedNode } from '../helpers/cluster.js';
import { makeUserProject, spawnDriver, told } from '../helpers/driver.js';

interface Ran { taskId: string; nodeId: string; nodeIp: string; workerId: string; pid: number }
interface Ready {
  squares: (Ran & { y: number })[];
  booms: { taskId: string; cls: string }[];
  calls: (Ran & { n: number; actorId: string })[];
  actorId: string;
  placementGroupId: string;
  objects: { big: string; small: string };
  driverPid: number;
  jobId: string;
}
type Row = Record<string, unknown>;

let cluster: TestCluster;
let head: StartedNode;
let worker: StartedNode;
let dir: string;
let ready: Ready;
let driverDone: ReturnType<typeof collect>;

/** `rayts ARGS` against the head's session. */
const rayts = (...args: string[]) => cluster.rayts([...args, `--temp-dir=${head.tempDir}`]);
async function json<T = Row[]>(...args: string[]): Promise<T> {
  const r = await rayts(...args, '--format=json');
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  // The workload SPREADs tasks right after the worker joined: the head's raylet learns of it with its
  // next resource report, which at 100 ms comes long before the driver has even loaded (a probe
  // driver would add tasks and a job to what this file counts).
  cluster = new TestCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '100' });
  head = await cluster.startHead({ numCpus: 2 });
  worker = await cluster.startWorker(head, { name: 'worker', ip: '127.0.0.2', numCpus: 2 });
  dir = makeUserProject(cluster);
  const driver = spawnDriver(cluster, dir, 'observability/workload.mjs', { address: head.gcsAddress });
  driverDone = collect(driver, 180_000);
  ready = await told<Ready>(dir, 'ready', 120_000);
  // Task events reach the head within a report interval: wait until every task the driver ran is listed finished.
  const expected = ready.squares.length + ready.booms.length + ready.calls.length;
  const ok = await pollUntil(async () => {
    const rows = await json('list', 'tasks', '--limit=10000', '--filter=type!=ACTOR_CREATION_TASK');
    return rows.filter((r) => r.state === 'FINISHED' || r.state === 'FAILED').length >= expected;
  }, 30_000, 200);
  expect(ok, 'the head lists every task the driver ran, finished').toBe(true);
}, 240_000);

afterAll(async () => {
  if (dir) writeFileSync(join(dir, 'gate'), '');
  await driverDone?.catch(() => undefined);
  await cluster?.cleanup();
}, 120_000);

describe('rayts list / get / summary', () => {
  it('lists both nodes, the tasks where they ran with their error types, the actor, the group, the objects, the workers and the job', async () => {
    const nodes = await json('list', 'nodes');
    expect(nodes.map((n) => n.node_ip).sort()).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(nodes.every((n) => n.state === 'ALIVE')).toBe(true);
    expect(nodes.find((n) => n.node_ip === '127.0.0.1')!.is_head_node).toBe(true);

    const tasks = await json('list', 'tasks', '--limit=10000');
    const byId = new Map(tasks.map((t) => [t.task_id as string, t]));
    for (const s of ready.squares) {
      expect(byId.get(s.taskId), s.taskId).toMatchObject({ state: 'FINISHED', type: 'NORMAL_TASK', func_or_class_name: 'square', node_id: s.nodeId, worker_id: s.workerId, worker_pid: s.pid, job_id: ready.jobId, error_type: null });
    }
    expect(new Set(ready.squares.map((s) => s.nodeIp)).size, 'SPREAD used both nodes').toBe(2);
    for (const b of ready.booms) expect(byId.get(b.taskId), b.taskId).toMatchObject({ state: 'FAILED', error_type: 'TASK_EXECUTION_EXCEPTION', func_or_class_name: 'boom' });
    for (const c of ready.calls) expect(byId.get(c.taskId), c.taskId).toMatchObject({ state: 'FINISHED', type: 'ACTOR_TASK', actor_id: ready.actorId, worker_pid: c.pid });

    const actors = await json('list', 'actors');
    expect(actors).toContainEqual(expect.objectContaining({ actor_id: ready.actorId, class_name: 'Counter', state: 'ALIVE', name: 'state-counter', ray_namespace: 'obs', node_id: ready.calls[0]!.nodeId, pid: ready.calls[0]!.pid }));

    const groups = await json('list', 'placement-groups');
    expect(groups).toContainEqual(expect.objectContaining({ placement_group_id: ready.placementGroupId, name: 'state-pg', state: 'CREATED', creator_job_id: ready.jobId }));

    const objects = await json('list', 'objects', '--limit=10000');
    expect(objects).toContainEqual(expect.objectContaining({ object_id: ready.objects.big, reference_type: 'LOCAL_REFERENCE', type: 'DRIVER', pid: ready.driverPid }));
    expect(objects.find((o) => o.object_id === ready.objects.big)!.object_size as number).toBeGreaterThan(300 * 1024);
    expect(objects.map((o) => o.object_id)).toContain(ready.objects.small);

    const workers = await json('list', 'workers', '--limit=10000');
    expect(workers).toContainEqual(expect.objectContaining({ worker_type: 'DRIVER', pid: ready.driverPid, is_alive: true, ip: '127.0.0.1' }));
    for (const s of ready.squares) expect(workers.some((w) => w.worker_id === s.workerId && w.pid === s.pid && w.node_id === s.nodeId), s.workerId).toBe(true);

    const jobs = await json('list', 'jobs');
    expect(jobs).toContainEqual(expect.objectContaining({ job_id: ready.jobId, type: 'DRIVER', status: 'RUNNING' }));
    expect((jobs.find((j) => j.job_id === ready.jobId)!.driver_info as Row).pid).toBe(String(ready.driverPid));
  });

  it('filters (ANDed, != and case-insensitive), limits, details, and prints tables and yaml', async () => {
    const failed = await json('list', 'tasks', '--filter', 'state=failed', '--limit=10000');
    expect(failed.map((t) => t.task_id).sort()).toEqual(ready.booms.map((b) => b.taskId).sort());
    const notSquare = await json('list', 'tasks', '--filter', 'func_or_class_name!=square', '--filter', 'type=NORMAL_TASK', '--limit=10000');
    expect(notSquare.every((t) => t.func_or_class_name === 'boom')).toBe(true);
    expect(notSquare).toHaveLength(ready.booms.length);
    // By id (the head looks the task up instead of reading every attempt), in any case, ANDed with the rest.
    const boomId = ready.booms[0]!.taskId;
    expect((await json('list', 'tasks', '--filter', `task_id=${boomId.toUpperCase()}`)).map((t) => t.task_id)).toEqual([boomId]);
    expect(await json('list', 'tasks', '--filter', `task_id=${boomId}`, '--filter', 'state=FINISHED')).toEqual([]);

    const limited = await rayts('list', 'tasks', '--limit=2', '--format=json');
    expect(JSON.parse(limited.stdout)).toHaveLength(2);
    expect(limited.stderr).toMatch(/more match/);

    const plain = await json('list', 'actors');
    expect(Object.keys(plain[0]!)).toEqual(['actor_id', 'class_name', 'state', 'job_id', 'name', 'node_id', 'pid', 'ray_namespace']);
    const detailed = await json('list', 'actors', '--detail');
    expect(Object.keys(detailed[0]!)).toEqual(expect.arrayContaining(['num_restarts', 'death_cause', 'required_resources', 'worker_id']));

    const table = await rayts('list', 'nodes');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^======== List: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} ========\nStats:\n-+\nTotal: 2\n\nTable:\n-+\n\s+NODE_ID\s+NODE_IP\s+IS_HEAD_NODE\s+STATE/);
    expect(table.stdout).toMatch(/\n\s+0\s+[0-9a-f]+\s+127\.0\.0\./);
    const yaml = await rayts('list', 'placement-groups', '--format=yaml');
    expect(parseYaml(yaml.stdout)).toContainEqual(expect.objectContaining({ placement_group_id: ready.placementGroupId }));
    const detailYaml = await rayts('list', 'nodes', '--detail');
    expect(parseYaml(detailYaml.stdout)).toHaveLength(2);
    const none = await rayts('list', 'actors', '--filter', 'state=RESTARTING');
    expect(none.stdout.trim()).toBe('No actors in the cluster match the filters.');
  });

  it('get prints the whole record; an unknown id prints one "not found" line and exits 1', async () => {
    const actor = await rayts('get', 'actors', ready.actorId);
    expect(actor.code, actor.stderr).toBe(0);
    expect(parseYaml(actor.stdout)).toMatchObject({ actor_id: ready.actorId, class_name: 'Counter', state: 'ALIVE', num_restarts: 0, is_detached: false });
    const task = await rayts('get', 'tasks', ready.booms[0]!.taskId);
    expect(parseYaml(task.stdout)).toMatchObject({ task_id: ready.booms[0]!.taskId, state: 'FAILED', error_type: 'TASK_EXECUTION_EXCEPTION' });
    expect(String(parseYaml(task.stdout).error_message)).toContain('boom from');
    const missing = await rayts('get', 'actors', 'ffffffffffffffffffffffffffffffff');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/actor with id=f+ not found/);
    const noId = await rayts('get', 'actors');
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain('rayts list actors');
  });

  it('summary tasks counts per function and state what ran', async () => {
    const s = await json<{ stats: Record<string, number>; groups: Row[] }>('summary', 'tasks');
    expect(s.stats).toMatchObject({ total_tasks: ready.squares.length + ready.booms.length, total_actor_tasks: ready.calls.length, total_actor_scheduled: 1 });
    expect(s.groups).toContainEqual({ func_or_class_name: 'square', type: 'NORMAL_TASK', state_counts: { FINISHED: ready.squares.length } });
    expect(s.groups).toContainEqual({ func_or_class_name: 'boom', type: 'NORMAL_TASK', state_counts: { FAILED: ready.booms.length } });
    expect(s.groups).toContainEqual(expect.objectContaining({ type: 'ACTOR_TASK', state_counts: { FINISHED: ready.calls.length } }));
    const text = await rayts('summary', 'tasks');
    expect(text.stdout).toMatch(/^======== Tasks Summary: .+ ========\nStats:\n-+\nnum_task_attempts_evicted_at_head: 0\nnum_task_events_dropped_at_workers: 0\ntotal_actor_scheduled: 1\ntotal_actor_tasks: 3\ntotal_tasks: 8\n/m);
    expect(text.stdout).toMatch(/Table \(group by func_name\):\n-+\n\s+FUNC_OR_CLASS_NAME\s+TYPE\s+STATE_COUNTS\n/);
    expect(text.stdout).toMatch(/\n\s+\d+\s+square\s+NORMAL_TASK\s+FINISHED: 6\n/);
    const actors = await json<{ groups: Row[] }>('summary', 'actors');
    expect(actors.groups).toContainEqual({ class_name: 'Counter', state_counts: { ALIVE: 1 } });
    const objects = await json<{ stats: Record<string, number> }>('summary', 'objects');
    expect(objects.stats.total_objects).toBeGreaterThanOrEqual(2);
  });
});

describe('rayts timeline', () => {
  it('writes one complete event per task execution, on the node and worker that ran it, none overlapping on a worker', async () => {
    const file = join(cluster.root, 'trace.json');
    const r = await rayts('timeline', `--output=${file}`);
    expect(r.code, r.stderr).toBe(0);
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { ph: string; name: string; pid: number; tid?: number; ts?: number; dur?: number; args: Row }[];
    const processName = new Map(trace.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, e.args.name]));
    const threadName = new Map(trace.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}/${e.tid}`, e.args.name]));
    const complete = trace.filter((e) => e.ph === 'X');
    for (const s of ready.squares) {
      const events = complete.filter((e) => e.args.task_id === s.taskId);
      expect(events, s.taskId).toHaveLength(1);
      const e = events[0]!;
      expect(processName.get(e.pid)).toBe(`Node ${s.nodeIp}`);
      expect(threadName.get(`${e.pid}/${e.tid}`)).toBe(`worker:${s.workerId}`);
      expect(e.dur!).toBeGreaterThanOrEqual(40_000);
    }
    expect(complete.filter((e) => e.name === 'square')).toHaveLength(ready.squares.length);
    // Every execution and nothing else: the squares, the booms, the actor's creation and calls (not the driver).
    expect(complete).toHaveLength(ready.squares.length + ready.booms.length + 1 + ready.calls.length);
    const byWorker = new Map<string, { ts: number; end: number }[]>();
    for (const e of complete) byWorker.set(`${e.pid}/${e.tid}`, [...(byWorker.get(`${e.pid}/${e.tid}`) ?? []), { ts: e.ts!, end: e.ts! + e.dur! }]);
    for (const [w, spans] of byWorker) {
      spans.sort((a, b) => a.ts - b.ts);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.ts, `overlap on ${w}`).toBeGreaterThanOrEqual(spans[i - 1]!.end);
    }
  });
});

describe('rayts logs actor|task|worker', () => {
  it('prints what the actor printed, a task\'s own lines (stdout and --err), and a worker\'s file', async () => {
    const actor = await rayts('logs', 'actor', '--id', ready.actorId);
    expect(actor.code, actor.stderr).toBe(0);
    for (let n = 1; n <= 3; n++) expect(actor.stdout).toContain(`actor-output ${ready.actorId} ${n}`);

    const [first, second] = ready.squares;
    const task = await rayts('logs', 'task', '--id', first!.taskId);
    expect(task.code, task.stderr).toBe(0);
    expect(task.stdout).toContain(`square-output ${first!.taskId}`);
    expect(task.stdout).not.toContain(`square-output ${second!.taskId}`);
    const err = await rayts('logs', 'task', '--id', ready.booms[0]!.taskId, '--err');
    expect(err.stdout).toContain(`boom-output ${ready.booms[0]!.taskId}`);
    expect(err.stdout).not.toContain(`boom-output ${ready.booms[1]!.taskId}`);

    const byPid = await rayts('logs', 'worker', '--pid', String(first!.pid), '--node-ip', first!.nodeIp);
    expect(byPid.code, byPid.stderr).toBe(0);
    expect(byPid.stdout).toContain(`square-output ${first!.taskId}`);
  });

  it('says why a driver job\'s output is not there, and refuses unknown ids', async () => {
    const job = await rayts('logs', 'job', '--id', ready.jobId);
    expect(job.code).toBe(1);
    expect(job.stderr).toMatch(/driver started outside the job API/);
    const unknown = await rayts('logs', 'actor', '--id', 'ffffffffffffffffffffffffffffffff');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not found/);
  });
});
