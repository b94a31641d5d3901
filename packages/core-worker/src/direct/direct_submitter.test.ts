import { describe, expect, it, vi } from 'vitest';
import { DirectTaskSubmitter, type LeaseChannel, type LeaseChannelEvents, type DirectLimits } from './direct_submitter.js';
import { packRun } from '../protocol/messages.js';
import type { CancelTask, Execute, RequestLease, ReturnLease, SubmitTask, TaskOutcome, TaskSpec } from '../protocol/messages.js';

type ToRaylet = SubmitTask | CancelTask | RequestLease | ReturnLease;

class FakeChannel implements LeaseChannel {
  readonly sent: Execute[] = [];
  closed = false;
  constructor(readonly events: LeaseChannelEvents) {}
  send(message: Execute): void { this.sent.push(message); }
  close(): void { this.closed = true; }
  /** The worker answers a task it was sent. */
  finish(spec: TaskSpec, runMs = 1): void {
    const start = Date.now();
    this.events.message({ type: 'taskResult', outcome: { ...outcomeOf(spec), value: { kind: 'inline', data: new Uint8Array([1]) }, run: packRun({ workerId: 'w', workerPid: 1, receivedMs: start, startMs: start, endMs: start + runMs }) } });
  }
}

function outcomeOf(spec: TaskSpec): TaskOutcome {
  return { taskId: spec.taskId, attempt: spec.attempt, returnId: spec.returnId, nodeId: 'n1' };
}

let seq = 0;
function task(over: Partial<TaskSpec> = {}): TaskSpec {
  seq += 1;
  return {
    taskId: `t${seq}`, jobId: 'j1', attempt: 0, name: 'f', fnHash: 'h1', args: [], returnId: `r${seq}`, resources: SHAPE, strategy: { kind: 'DEFAULT' },
    owner: { nodeId: 'n1', clientId: 'driver-1' }, depth: 0, driverNodeId: 'n1', ...over,
  };
}
const SHAPE = { CPU: 1 };

function setup(limits: Partial<DirectLimits> = {}) {
  const toRaylet: ToRaylet[] = [];
  const outcomes: TaskOutcome[] = [];
  const channels: FakeChannel[] = [];
  const direct = new DirectTaskSubmitter({
    raylet: { send: (m) => toRaylet.push(m) },
    outcomes: { handleOutcome: (o) => outcomes.push(o) },
    nodeId: 'n1',
    limits: { pipeline: { depth: 4, maxAvgMs: 2, minRuns: 3 }, idleMs: 5, requestsPerKey: 2, rejectedRelayMs: 60_000, ...limits },
    dial: async (_path, events) => {
      const ch = new FakeChannel(events);
      channels.push(ch);
      return ch;
    },
  });
  const requests = () => toRaylet.filter((m): m is RequestLease => m.type === 'requestLease');
  const returns = () => toRaylet.filter((m): m is ReturnLease => m.type === 'returnLease');
  /** Grants a request and waits until its channel is open (the dial settles in a later microtask). */
  const grant = async (leaseId: number, workerId = `w${leaseId}`) => {
    const before = channels.length;
    direct.leaseGranted({ type: 'leaseGranted', leaseId, workerId, pid: 100 + leaseId, socketPath: `/tmp/${workerId}.sock`, jobDir: '/job', gpuIds: [] });
    await vi.waitFor(() => expect(channels.length).toBe(before + 1));
    await new Promise(setImmediate);
    return channels[before]!;
  };
  return { direct, toRaylet, outcomes, channels, requests, returns, grant };
}

describe('DirectTaskSubmitter', () => {
  it('leases a worker for a kind of task, pushes the tasks to it one at a time, and gives the lease back once idle', async () => {
    const s = setup();
    const [a, b] = [task(), task()];
    s.direct.send({ type: 'submit', task: a });
    s.direct.send({ type: 'submit', task: b });
    // Two waiting: two requests (the limit per key), each placed like the task under its own task id.
    expect(s.requests().map((r) => r.leaseId)).toEqual([1, 2]);
    expect(s.requests()[0]!.task.fnHash).toBe('h1');
    expect(s.requests()[0]!.task.taskId).not.toBe(a.taskId);
    expect(s.toRaylet.some((m) => m.type === 'submit')).toBe(false);

    const ch = await s.grant(1);
    expect(ch.sent.map((e) => e.task.taskId)).toEqual([a.taskId]); // one at a time until the function is known short
    expect(ch.sent[0]!.jobDir).toBe('/job');
    ch.finish(a);
    expect(s.outcomes.map((o) => o.taskId)).toEqual([a.taskId]);
    expect(ch.sent.map((e) => e.task.taskId)).toEqual([a.taskId, b.taskId]);
    // Nothing waits any more: the request not granted is withdrawn.
    expect(s.returns()).toEqual([{ type: 'returnLease', leaseId: 2 }]);
    ch.finish(b);
    await vi.waitFor(() => expect(s.returns().map((r) => r.leaseId)).toEqual([2, 1]));
    expect(ch.closed).toBe(true);
    // A grant for the withdrawn request goes straight back.
    s.direct.leaseGranted({ type: 'leaseGranted', leaseId: 2, workerId: 'w2', pid: 2, socketPath: '/x', jobDir: '/job', gpuIds: [] });
    expect(s.returns().map((r) => r.leaseId)).toEqual([2, 1, 2]);
  });

  it('pipelines a function once it ran short often enough', async () => {
    const s = setup();
    const first = [task(), task(), task()];
    for (const t of first) s.direct.send({ type: 'submit', task: t });
    const ch = await s.grant(1);
    for (const t of first) ch.finish(t);
    const more = Array.from({ length: 8 }, () => task());
    for (const t of more) s.direct.send({ type: 'submit', task: t });
    // depth 4 behind the running one: 5 in flight on the one lease.
    expect(ch.sent.length - first.length).toBe(5);
  });

  it('pipelines once the round trips of tasks that went out alone show the function short, when outcomes carry no run times', async () => {
    const s = setup();
    const first = [task(), task(), task()];
    for (const t of first) s.direct.send({ type: 'submit', task: t });
    const ch = await s.grant(1);
    for (const t of first) ch.events.message({ type: 'taskResult', outcome: { ...outcomeOf(t), value: { kind: 'inline', data: new Uint8Array([1]) } } });
    for (let i = 0; i < 8; i++) s.direct.send({ type: 'submit', task: task() });
    expect(ch.sent.length - first.length).toBe(5);
  });

  it('sends tasks it cannot lease for through the raylet: other strategies and placement groups', () => {
    const s = setup();
    s.direct.send({ type: 'submit', task: task({ strategy: { kind: 'SPREAD' } }) });
    s.direct.send({ type: 'submit', task: task({ resources: { CPU_group_0_abcdefabcdefabcdefabcdefabcdef: 1 } }) });
    expect(s.toRaylet.map((m) => m.type)).toEqual(['submit', 'submit']);
  });

  it('relays the kind of task the raylet declined a lease for, and withdraws its other requests', () => {
    const s = setup();
    const [a, b, c] = [task(), task(), task()];
    s.direct.send({ type: 'submit', task: a });
    s.direct.send({ type: 'submit', task: b });
    s.direct.leaseRejected({ type: 'leaseRejected', leaseId: 1, reason: 'another node has the resources free' });
    expect(s.toRaylet.filter((m) => m.type === 'submit').map((m) => (m as SubmitTask).task.taskId)).toEqual([a.taskId, b.taskId]);
    expect(s.returns()).toEqual([{ type: 'returnLease', leaseId: 2 }]);
    s.direct.send({ type: 'submit', task: c });
    expect((s.toRaylet.at(-1) as SubmitTask).task.taskId).toBe(c.taskId);
  });

  it('fails the tasks of a worker that died with the raylet\'s reason, once its connection closed', async () => {
    const s = setup({ requestsPerKey: 1 });
    const [a, b] = [task(), task()];
    s.direct.send({ type: 'submit', task: a });
    const ch = await s.grant(1);
    s.direct.leaseLost({ type: 'leaseLost', leaseId: 1, failure: { type: 'WORKER_DIED', message: 'killed', errorName: 'OutOfMemoryError', pid: 101 } });
    expect(s.outcomes).toEqual([]); // its outcome may still be on the way
    s.direct.send({ type: 'submit', task: b });
    expect(ch.sent.map((e) => e.task.taskId)).toEqual([a.taskId]); // nothing more goes to it
    ch.events.closed();
    expect(s.outcomes).toHaveLength(1);
    expect(s.outcomes[0]).toMatchObject({ taskId: a.taskId, nodeId: 'n1', failure: { type: 'WORKER_DIED', errorName: 'OutOfMemoryError', message: 'killed' } });
    expect(s.requests().length).toBe(2); // b asks for a new lease
  });

  it('asks the raylet to kill a worker whose connection broke, and waits for its verdict', async () => {
    const s = setup({ requestsPerKey: 1 });
    const a = task();
    s.direct.send({ type: 'submit', task: a });
    const ch = await s.grant(1);
    ch.events.closed();
    expect(s.returns()).toEqual([{ type: 'returnLease', leaseId: 1, kill: "its owner's connection to it closed" }]);
    expect(s.outcomes).toEqual([]);
    s.direct.leaseLost({ type: 'leaseLost', leaseId: 1, failure: { type: 'WORKER_DIED', message: 'SIGKILL' } });
    expect(s.outcomes.map((o) => o.failure?.type)).toEqual(['WORKER_DIED']);
  });

  it('takes back the tasks a blocked worker handed back and leases another worker for them', async () => {
    const s = setup({ requestsPerKey: 1 });
    const ts = [task(), task(), task()];
    for (const t of ts.slice(0, 3)) s.direct.send({ type: 'submit', task: t });
    const ch = await s.grant(1);
    for (const t of ts) ch.finish(t); // 3 short runs: pipelinable now
    const [x, y, z] = [task(), task(), task()];
    for (const t of [x, y, z]) s.direct.send({ type: 'submit', task: t });
    expect(ch.sent.slice(3).map((e) => e.task.taskId)).toEqual([x.taskId, y.taskId, z.taskId]);
    const asked = s.requests().length;
    ch.events.message({ type: 'returnTasks', taskIds: [y.taskId, z.taskId] });
    // They wait again (in order), nothing more goes to the blocked worker, and a new lease is asked for.
    expect(ch.sent.length).toBe(6);
    expect(s.requests().length).toBe(asked + 1);
    const ch2 = await s.grant(s.requests().at(-1)!.leaseId);
    expect(ch2.sent.map((e) => e.task.taskId)).toEqual([y.taskId]); // the function blocked: one at a time again
  });

  it('cancels a waiting task at once and kills the worker of a running one with force', async () => {
    const s = setup({ requestsPerKey: 1 });
    const [a, b] = [task(), task()];
    s.direct.send({ type: 'submit', task: a });
    s.direct.send({ type: 'submit', task: b });
    s.direct.send({ type: 'cancel', taskId: b.taskId, force: false });
    expect(s.outcomes.map((o) => [o.taskId, o.failure?.type])).toEqual([[b.taskId, 'CANCELLED']]);
    await s.grant(1);
    s.direct.send({ type: 'cancel', taskId: a.taskId, force: false }); // running: it runs on (the owner reports it cancelled)
    expect(s.returns()).toEqual([]);
    s.direct.send({ type: 'cancel', taskId: a.taskId, force: true });
    expect(s.returns()).toEqual([{ type: 'returnLease', leaseId: 1, kill: `task ${a.taskId} was cancelled with force` }]);
    s.direct.send({ type: 'cancel', taskId: 'elsewhere', force: false });
    expect(s.toRaylet.at(-1)).toEqual({ type: 'cancel', taskId: 'elsewhere', force: false });
  });

  it('gives its leases back when the owner shuts down, killing a worker that still runs its tasks', async () => {
    const s = setup({ requestsPerKey: 2 });
    s.direct.send({ type: 'submit', task: task() });
    s.direct.send({ type: 'submit', task: task() });
    const ch = await s.grant(1);
    s.direct.close();
    expect(s.returns()).toEqual([{ type: 'returnLease', leaseId: 1, kill: 'its owner shut down while tasks of it ran there' }, { type: 'returnLease', leaseId: 2 }]);
    expect(ch.closed).toBe(true);
    s.direct.send({ type: 'submit', task: task() });
    expect(s.toRaylet.at(-1)!.type).toBe('submit');
  });
});
