/** LocalScheduler on its own: a fake worker source and fake workers, no processes. */
import { describe, expect, it } from 'vitest';
import { nullLogger, type ResourceMap } from '@rayts/common';
import { LocalScheduler, type QueuedTask, type WorkerSource } from './local_scheduler.js';
import type { BindJob, Execute, Leased, TaskOutcome } from './protocol.js';

/** Counts start requests and kills; starts nothing (the test adds workers itself). */
class FakeWorkerSource implements WorkerSource {
  startRequests = 0;
  killed: string[] = [];
  startWorker(): boolean {
    this.startRequests += 1;
    return true;
  }
  killWorker(workerId: string): void {
    this.killed.push(workerId);
  }
}

interface FakeWorker {
  workerId: string;
  /** The tasks the scheduler sent this worker, in order. */
  received: string[];
  /** Every message, in order: `bind <job> <dir>` and `execute <task> <jobDir>`. */
  messages: string[];
  /** The GPU ids each task was sent with. */
  gpus: Map<string, number[] | undefined>;
}

function setup(total: ResourceMap) {
  const source = new FakeWorkerSource();
  // Pipelining off: each test sees only what resources and idle workers allow.
  const scheduler = new LocalScheduler({ total, workers: source, logger: nullLogger, pipeline: { depth: 0, maxAvgMs: 0, minRuns: 1 } });
  const outcomes = new Map<string, TaskOutcome>();
  const task = (taskId: string, resources: ResourceMap = { CPU: 1 }, jobId = 'job1'): QueuedTask => ({
    spec: {
      taskId, jobId, attempt: 0, name: taskId, fnHash: `fn-${taskId}`, args: [], returnId: `${taskId}-ret`, resources,
      strategy: { kind: 'DEFAULT' }, owner: { nodeId: 'node', clientId: 'driver-1' }, depth: 0, driverNodeId: 'node',
    },
    jobDir: '', queuedAt: 0, deliver: (o) => { outcomes.set(o.taskId, o); },
  });
  const worker = (workerId: string): FakeWorker => {
    const w: FakeWorker = { workerId, received: [], messages: [], gpus: new Map() };
    scheduler.addWorker({
      workerId, pid: 1000, blocked: false, send: (m: Execute | BindJob | Leased) => {
        if (m.type === 'leased') {
          w.messages.push(`leased ${m.socketPath}`);
        } else if (m.type === 'bindJob') {
          w.messages.push(`bind ${m.jobId} ${m.dir ?? '-'} ${JSON.stringify(m.envVars)}`);
        } else {
          w.received.push(m.task.taskId);
          w.gpus.set(m.task.taskId, m.gpuIds);
          w.messages.push(`execute ${m.task.taskId} ${m.jobDir}`);
        }
      },
    });
    return w;
  };
  const finish = (w: FakeWorker, taskId: string) => scheduler.onTaskDone(w.workerId, { taskId, attempt: 0, returnId: `${taskId}-ret`, nodeId: '' });
  return { scheduler, source, outcomes, task, worker, finish };
}

describe('LocalScheduler', () => {
  it('scheduling classes take turns: a backlog of one function does not hold back another function of the same shape', () => {
    const { scheduler, task, worker, finish } = setup({ CPU: 2 });
    const of = (taskId: string, fnHash: string) => { const t = task(taskId); t.spec.fnHash = fnHash; return t; };
    for (let i = 0; i < 6; i++) scheduler.enqueue(of(`a${i}`, 'fn-a'));
    scheduler.enqueue(of('b0', 'fn-b'));
    scheduler.enqueue(of('b1', 'fn-b'));
    const w1 = worker('w1');
    const w2 = worker('w2');
    // Two CPUs free: one task of each class, in the order the classes arrived.
    expect([...w1.received, ...w2.received]).toEqual(['a0', 'b0']);
    // The next free CPU goes to the class served least recently (a), then to b, and so on.
    finish(w1, 'a0');
    expect(w1.received.at(-1)).toBe('a1');
    finish(w2, 'b0');
    expect(w2.received.at(-1)).toBe('b1');
    finish(w1, 'a1');
    expect(w1.received.at(-1)).toBe('a2');
    // Within a class the order stays FIFO.
    expect(scheduler.queued().map((t) => t.spec.taskId)).toEqual(['a3', 'a4', 'a5']);
  });

  it('queues tasks until both resources and an idle worker are free', () => {
    const { scheduler, source, task, worker, finish } = setup({ CPU: 1 });
    scheduler.enqueue(task('t1'));
    scheduler.enqueue(task('t2'));
    // No worker yet: nothing runs, and the source is asked for one.
    expect(scheduler.queued().map((t) => t.spec.taskId)).toEqual(['t1', 't2']);
    expect(source.startRequests).toBeGreaterThan(0);

    const a = worker('a');
    expect(a.received).toEqual(['t1']);
    expect(scheduler.available.CPU).toBe(0);

    // A second idle worker does not help: the one CPU is taken.
    const b = worker('b');
    expect(b.received).toEqual([]);
    expect(scheduler.queued().map((t) => t.spec.taskId)).toEqual(['t2']);

    finish(a, 't1');
    expect([...a.received, ...b.received].sort()).toEqual(['t1', 't2']);
    expect(scheduler.queued()).toEqual([]);
  });

  it('lends a blocked worker\'s CPU to the next task and takes it back when it continues', () => {
    const { scheduler, task, worker } = setup({ CPU: 1 });
    const a = worker('a');
    const b = worker('b');
    scheduler.enqueue(task('outer'));
    scheduler.enqueue(task('inner'));
    const [runsOuter, other] = a.received.length ? [a, b] : [b, a];
    expect(runsOuter.received).toEqual(['outer']);
    expect(other.received).toEqual([]);

    scheduler.onBlocked(runsOuter.workerId);
    expect(other.received).toEqual(['inner']);
    expect(scheduler.available.CPU).toBe(0);

    scheduler.onUnblocked(runsOuter.workerId);
    // Both run now: briefly oversubscribed, as Ray allows for a worker about to continue.
    expect(scheduler.available.CPU).toBe(-1);
    expect(scheduler.busyWorkers).toBe(2);
  });

  it('gives the resources back when a task finishes, and when its worker dies', () => {
    const { scheduler, outcomes, task, worker, finish } = setup({ CPU: 4, GPU: 1 });
    const a = worker('a');
    const b = worker('b');
    scheduler.enqueue(task('gpu', { CPU: 2, GPU: 1 }));
    scheduler.enqueue(task('cpu', { CPU: 1 }));
    expect(scheduler.available).toEqual({ CPU: 1, GPU: 0 });

    const gpuWorker = a.received.includes('gpu') ? a : b;
    finish(gpuWorker, 'gpu');
    expect(outcomes.get('gpu')?.failure).toBeUndefined();
    expect(scheduler.available).toEqual({ CPU: 3, GPU: 1 });

    const cpuWorker = a.received.includes('cpu') ? a : b;
    scheduler.onWorkerGone(cpuWorker.workerId, 'worker process exited with code 1');
    expect(outcomes.get('cpu')?.failure?.type).toBe('WORKER_DIED');
    expect(scheduler.available).toEqual({ CPU: 4, GPU: 1 });
  });

  it('a worker the memory monitor killed fails its task as WORKER_DIED with OutOfMemoryError and the monitor\'s message', () => {
    const { scheduler, outcomes, task, worker } = setup({ CPU: 1 });
    const a = worker('a');
    scheduler.enqueue(task('big'));
    scheduler.onWorkerGone(a.workerId, 'task big was killed because the node ran low on memory', 'OutOfMemoryError');
    expect(outcomes.get('big')?.failure).toEqual({ type: 'WORKER_DIED', message: 'task big was killed because the node ran low on memory', pid: 1000, errorName: 'OutOfMemoryError' });
  });

  it('binds a worker to the job before its first task, once, and runs tasks in the job\'s prepared directory', () => {
    const { scheduler, task, worker, finish } = setup({ CPU: 1 });
    const a = worker('a');
    const prepared = { ...task('t1'), jobDir: '/driver/dir', env: { dir: '/session/runtime_resources/working_dir/abc', envVars: { MODE: 'x' } } };
    scheduler.enqueue(prepared);
    finish(a, 't1');
    scheduler.enqueue({ ...task('t2'), jobDir: '/driver/dir', env: prepared.env });
    expect(a.messages).toEqual([
      'bind job1 /session/runtime_resources/working_dir/abc {"MODE":"x"}',
      'execute t1 /session/runtime_resources/working_dir/abc',
      'execute t2 /session/runtime_resources/working_dir/abc',
    ]);
    // A job without a working_dir: bound without a directory; tasks keep the driver's directory.
    finish(a, 't2');
    const b = worker('b');
    scheduler.enqueue({ ...task('t3', { CPU: 1 }, 'job2'), jobDir: '/driver2' });
    expect(b.messages).toEqual(['bind job2 - {}', 'execute t3 /driver2']);
    // An actor lease leaves binding to the actor host: the worker comes out unbound.
    const c = worker('c');
    expect(scheduler.leaseIdleWorker('job3')?.workerId).toBe(c.workerId);
    expect(c.messages).toEqual([]);
  });

  it('answers a queued task that is cancelled, without running it', () => {
    const { scheduler, outcomes, task } = setup({ CPU: 1 });
    scheduler.enqueue(task('t1'));
    expect(scheduler.cancel('t1', false)).toBe(true);
    expect(outcomes.get('t1')?.failure?.type).toBe('CANCELLED');
    expect(scheduler.queued()).toEqual([]);
  });

  it('counts every attempt that ended on its workers once: finished, failed, and lost with a worker', () => {
    const { scheduler, task, worker, finish } = setup({ CPU: 2 });
    const a = worker('a');
    const b = worker('b');
    for (const id of ['ok', 'err', 'lost', 'queued', 'cancelled']) scheduler.enqueue(task(id));
    expect(scheduler.taskCounts()).toEqual({ queued: 3, running: 2, pipelined: 0, leaseRequests: 0, leased: 0, leasesGranted: 0 });
    expect(scheduler.endedAttempts()).toEqual({ finished: 0, failed: 0 });

    const runsOk = a.received.includes('ok') ? a : b;
    const runsErr = runsOk === a ? b : a;
    finish(runsOk, 'ok');
    scheduler.onTaskDone(runsErr.workerId, { taskId: 'err', attempt: 0, returnId: 'err-ret', nodeId: '', failure: { type: 'APPLICATION', message: 'boom' } });
    // An outcome from a worker that does not run the task is not counted.
    scheduler.onTaskDone(runsErr.workerId, { taskId: 'err', attempt: 0, returnId: 'err-ret', nodeId: '' });
    expect(scheduler.endedAttempts()).toEqual({ finished: 1, failed: 1 });

    // 'lost' and 'queued' run now; one worker dies; a queued task cancelled never counts.
    expect(scheduler.cancel('cancelled', false)).toBe(true);
    scheduler.onWorkerGone(a.workerId, 'killed');
    expect(scheduler.endedAttempts()).toEqual({ finished: 1, failed: 2 });
    const rest = b.received[b.received.length - 1]!;
    finish(b, rest);
    expect(scheduler.endedAttempts()).toEqual({ finished: 2, failed: 2 });
    expect(scheduler.taskCounts()).toEqual({ queued: 0, running: 0, pipelined: 0, leaseRequests: 0, leased: 0, leasesGranted: 0 });
  });

  it('gives each GPU task its own GPU ids, packs fractions onto one GPU, and takes the ids back when a task ends', () => {
    const { scheduler, task, worker, finish } = setup({ CPU: 8, GPU: 2 });
    const ws = ['a', 'b', 'c', 'd'].map(worker);
    const gpusOf = (taskId: string) => ws.find((w) => w.gpus.has(taskId))?.gpus.get(taskId);
    scheduler.enqueue(task('whole1', { CPU: 1, GPU: 1 }));
    scheduler.enqueue(task('half1', { CPU: 1, GPU: 0.5 }));
    scheduler.enqueue(task('half2', { CPU: 1, GPU: 0.5 }));
    scheduler.enqueue(task('whole2', { CPU: 1, GPU: 1 }));
    expect(gpusOf('whole1')).toEqual([0]);
    expect(gpusOf('half1')).toEqual([1]);
    expect(gpusOf('half2')).toEqual([1]);
    // Both GPUs are taken now (0 whole, 1 by two halves): whole2 waits.
    expect(scheduler.queued().map((t) => t.spec.taskId)).toEqual(['whole2']);
    finish(ws.find((w) => w.gpus.has('whole1'))!, 'whole1');
    expect(gpusOf('whole2')).toEqual([0]);
    // A CPU-only task is sent no GPUs.
    scheduler.enqueue(task('cpu', { CPU: 1 }));
    expect(gpusOf('cpu')).toEqual([]);
  });

  it('does not start a whole-GPU task when the free GPU quantity is split across GPUs', () => {
    const { scheduler, task, worker } = setup({ CPU: 8, GPU: 2 });
    ['a', 'b', 'c'].forEach(worker);
    scheduler.enqueue(task('f1', { CPU: 1, GPU: 0.6 }));
    scheduler.enqueue(task('f2', { CPU: 1, GPU: 0.6 }));
    scheduler.enqueue(task('w', { CPU: 1, GPU: 1 }));
    // 0.8 GPU is free in all, but no GPU is whole.
    expect(scheduler.available.GPU).toBeCloseTo(0.8);
    expect(scheduler.queued().map((t) => t.spec.taskId)).toEqual(['w']);
    expect(scheduler.canRunNow({ GPU: 1 })).toBe(false);
  });

  it('holds the GPUs reserved for an actor until they are given back', () => {
    const { scheduler } = setup({ CPU: 4, GPU: 2 });
    const first = scheduler.reserve({ GPU: 1 });
    const second = scheduler.reserve({ GPU: 1 });
    expect([first.ids, second.ids]).toEqual([[0], [1]]);
    expect(scheduler.canRunNow({ GPU: 0.5 })).toBe(false);
    scheduler.unreserve({ GPU: 1 }, first);
    expect(scheduler.reserve({ GPU: 0.5 }).ids).toEqual([0]);
  });
});

describe('LocalScheduler leases', () => {
  /** A lease request like the task `like`, recording what the scheduler tells its holder. */
  function leaseRequest(s: ReturnType<typeof setup>, like: string, holder = 'driver-1', leaseId = 1) {
    const events: string[] = [];
    const request: QueuedTask = {
      ...s.task(like),
      deliver: (o) => events.push(`lost ${o.failure?.type} ${o.failure?.errorName ?? ''}`.trim()),
      lease: {
        holder, leaseId,
        granted: (worker, jobDir) => events.push(`granted ${worker.workerId} ${jobDir || '-'} gpus=${worker.gpus?.ids.join(',') ?? ''}`),
        rejected: (reason) => events.push(`rejected ${reason}`),
      },
    };
    return { request, events };
  }

  it('grants a lease on an idle worker, holds its resources until it comes back, and sends it nothing to run', () => {
    const s = setup({ CPU: 2 });
    const w = s.worker('w1');
    const { request, events } = leaseRequest(s, 'lease-1');
    s.scheduler.enqueue(request);
    expect(events).toEqual(['granted w1 - gpus=']);
    expect(w.received).toEqual([]);
    expect(w.messages).toEqual(['bind job1 - {}']);
    expect(s.scheduler.available.CPU).toBe(1);
    expect(s.scheduler.taskCounts()).toMatchObject({ running: 0, leased: 1, leasesGranted: 1 });
    // A task of the same job and shape is not pipelined behind a lease (its holder pushes to it).
    const s2 = setup({ CPU: 1 });
    const w2 = s2.worker('w2');
    const r2 = leaseRequest(s2, 'lease-2');
    s2.scheduler.enqueue(r2.request);
    s2.scheduler.enqueue(s2.task('t1'));
    expect(w2.received).toEqual([]);
    s2.scheduler.returnLease('driver-1', 1);
    expect(w2.received).toEqual(['t1']);

    s.scheduler.returnLease('driver-1', 1);
    expect(s.scheduler.available.CPU).toBe(2);
    expect(s.scheduler.taskCounts()).toMatchObject({ leased: 0, leasesGranted: 1 });
  });

  it('tells the holder when the leased worker died, with the reason, and counts nothing itself', () => {
    const s = setup({ CPU: 1 });
    s.worker('w1');
    const { request, events } = leaseRequest(s, 'lease-1');
    s.scheduler.enqueue(request);
    s.scheduler.onWorkerGone('w1', 'killed by the memory monitor', 'OutOfMemoryError');
    expect(events).toEqual(['granted w1 - gpus=', 'lost WORKER_DIED OutOfMemoryError']);
    expect(s.scheduler.available.CPU).toBe(1);
    expect(s.scheduler.endedAttempts()).toEqual({ finished: 0, failed: 0 });
  });

  it('kills a leased worker its holder asks to kill, and withdraws a request not granted yet', () => {
    const s = setup({ CPU: 1 });
    s.worker('w1');
    const first = leaseRequest(s, 'lease-1', 'driver-1', 1);
    const second = leaseRequest(s, 'lease-2', 'driver-1', 2);
    s.scheduler.enqueue(first.request);
    s.scheduler.enqueue(second.request);
    expect(s.scheduler.queued().length).toBe(1);
    expect(s.scheduler.taskCounts()).toMatchObject({ queued: 0, leaseRequests: 1, leased: 1 });
    s.scheduler.returnLease('driver-1', 2);
    expect(s.scheduler.queued().length).toBe(0);
    s.scheduler.returnLease('driver-1', 1, 'a task on it was cancelled with force');
    expect(s.source.killed).toEqual(['w1']);
    expect(s.scheduler.available.CPU).toBe(0); // held until the worker is gone
  });

  it('drops the requests of a holder that left and kills the workers leased to it', () => {
    const s = setup({ CPU: 1 });
    s.worker('w1');
    s.scheduler.enqueue(leaseRequest(s, 'lease-1', 'worker-owner', 1).request);
    s.scheduler.enqueue(leaseRequest(s, 'lease-2', 'worker-owner', 2).request);
    s.scheduler.enqueue(leaseRequest(s, 'lease-3', 'driver-1', 3).request);
    s.scheduler.dropLeasesOf('worker-owner');
    expect(s.source.killed).toEqual(['w1']);
    expect(s.scheduler.queued().map((t) => t.lease?.leaseId)).toEqual([3]);
  });
});
