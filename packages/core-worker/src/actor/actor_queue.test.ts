// The caller side of actors driven by a fake transport and a fake head: no processes, no sockets.
import { describe, expect, it, vi } from 'vitest';
import { AlreadyExistsError, NotFoundError, type ActorInfoMsgOutput, type ActorSpecMsg } from '@rayts/common';
import { ActorQueue } from './actor_queue.js';
import { ActorCreator } from './actor_creator.js';
import type { ActorDirectory, ActorTarget } from './actor_core.js';
import type { ActorTransport, ChannelEvents } from './actor_transport.js';
import type { EntryState } from '../memory_store.js';
import type { Execute, TaskArg, TaskSpec } from '../protocol/messages.js';
import { RecordingTaskEvents } from '../task_events.test_helper.js';

const HERE = 'node-here';
const config = { actorWatchWaitMs: 1000, actorWatchRetryMs: 1, actorLostCallWaitMs: 5, actorLocalStartRegisterWaitMs: 60_000 };

/** Sockets of this node's workers and the raylet relay, as lists of what went where. */
class FakeTransport implements ActorTransport {
  readonly nodeId = HERE;
  /** Calls by the worker they reached, in arrival order (attempt included). */
  readonly delivered = new Map<string, string[]>();
  readonly peers = new Map<string, ChannelEvents>();
  dials = 0;
  /** Patient dials fail (the worker never listened in time). */
  refusePatient = false;

  async dial(socketPath: string, patient: boolean, events: ChannelEvents) {
    this.dials += 1;
    if (patient && this.refusePatient) throw Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' });
    const workerId = socketPath.replace('/sock/', '');
    this.peers.set(workerId, events);
    return { send: (m: Execute) => this.deliver(workerId, m.task), close: () => undefined };
  }

  relay(target: ActorTarget, task: TaskSpec): void {
    this.deliver(target.workerId, task);
  }

  private deliver(workerId: string, task: TaskSpec): void {
    this.delivered.set(workerId, [...(this.delivered.get(workerId) ?? []), `${task.method}#${task.attempt}`]);
  }

  to(workerId: string): string[] {
    return this.delivered.get(workerId) ?? [];
  }
}

function info(patch: Partial<ActorInfoMsgOutput>): ActorInfoMsgOutput {
  return {
    actorId: 'a1', state: 'PENDING_CREATION', version: 1, className: 'Counter', name: '', namespace: 'default', methodNames: [], maxTaskRetries: 0,
    maxPendingCalls: -1, detached: false, jobId: 'j', nodeId: '', nodeIp: '', rayletPort: 0, workerId: '', pid: 0, socketPath: '', numRestarts: 0,
    maxRestarts: 0, deathCause: '', deathMessage: '', creationFailure: null, startTimeMs: 0, endTimeMs: 0, placementResources: {}, pendingReason: '', ...patch,
  };
}

const aliveAt = (node: string, workerId: string) => ({ state: 'ALIVE', nodeId: node, workerId, socketPath: `/sock/${workerId}` });

/** The head: a record that moves on when the test publishes, answering long-polls like GetActor. */
class FakeHead implements ActorDirectory {
  record?: ActorInfoMsgOutput;
  failNext?: Error;
  readonly registrations: { spec: ActorSpecMsg; resolve: (i: ActorInfoMsgOutput) => void; reject: (e: Error) => void }[] = [];
  private wake: (() => void)[] = [];

  publish(patch: Partial<ActorInfoMsgOutput>): ActorInfoMsgOutput {
    this.record = info({ ...this.record, ...patch, version: (this.record?.version ?? 0) + 1 });
    for (const w of this.wake.splice(0)) w();
    return this.record;
  }

  async getActor(actorId: string, minVersion: number, waitMs: number): Promise<ActorInfoMsgOutput> {
    if (this.failNext) { const e = this.failNext; this.failNext = undefined; throw e; }
    if (!this.record) throw new NotFoundError(`no actor ${actorId}`);
    if (this.record.version <= minVersion) await new Promise<void>((r) => { this.wake.push(r); setTimeout(r, waitMs); });
    return this.record;
  }

  registerActor(spec: ActorSpecMsg): Promise<ActorInfoMsgOutput> {
    return new Promise((resolve, reject) => this.registrations.push({ spec, resolve, reject }));
  }

  async killActor(): Promise<void> {}
}

class FakeResults {
  readonly states = new Map<string, EntryState>();
  resolve(id: string, state: Exclude<EntryState, { status: 'pending' }>): void {
    this.states.set(id, state);
  }
  failure(id: string) {
    const s = this.states.get(id);
    return s?.status === 'failed' ? s.failure : undefined;
  }
}

function setup(maxTaskRetries: number, initial: 'registering' | 'waiting' = 'waiting') {
  const transport = new FakeTransport();
  const head = new FakeHead();
  const results = new FakeResults();
  const events = new RecordingTaskEvents();
  const queue = new ActorQueue({ actorId: 'a1', className: 'Counter', maxTaskRetries }, initial, { transport, head, results, config, events });
  let n = 0;
  const call = (method: string, args: TaskArg[] | Promise<TaskArg[]> = []): string => {
    n += 1;
    const spec: TaskSpec = {
      taskId: `t${n}`, jobId: 'j', attempt: 0, name: `Counter.${method}`, fnHash: '', args: [], returnId: `r${n}`, resources: {},
      strategy: { kind: 'DEFAULT' }, owner: { nodeId: HERE, clientId: 'c' }, depth: 0, driverNodeId: HERE, actorId: 'a1', method,
    };
    queue.push(spec, args, { type: 'ACTOR_TASK', name: spec.name, funcOrClassName: spec.name, parentTaskId: '', actorId: 'a1' });
    return spec.taskId;
  };
  /** The actor's worker answers a call (the task id is the call's, its attempt the latest sent). */
  const answer = (workerId: string, taskId: string, attempt = 0) => {
    transport.peers.get(workerId)!.result({ taskId, attempt, returnId: `r${taskId.slice(1)}`, nodeId: HERE, value: { kind: 'inline', data: new Uint8Array([1]) } });
  };
  return { transport, head, results, queue, call, answer, events };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

describe('ActorQueue', () => {
  it('sends calls in submission order, also when an earlier call\'s arguments resolve late', async () => {
    const { transport, head, queue, call } = setup(0);
    queue.headRecord(head.publish(aliveAt('node-far', 'w1')));
    const late = deferred<TaskArg[]>();
    call('a');
    call('b', late.promise);
    call('c');
    expect(transport.to('w1')).toEqual(['a#0']); // c waits behind b
    late.resolve([]);
    await vi.waitFor(() => expect(transport.to('w1')).toEqual(['a#0', 'b#0', 'c#0']));
  });

  it('an argument that fails fails its call only; the calls behind it go', async () => {
    const { transport, head, results, queue, call } = setup(0);
    queue.headRecord(head.publish(aliveAt(HERE, 'w1')));
    const bad = deferred<TaskArg[]>();
    call('a');
    call('b', bad.promise);
    call('c');
    bad.reject(Object.assign(new Error('dependency failed'), { failure: { type: 'APPLICATION' as const, message: 'boom' } }));
    await vi.waitFor(() => expect(transport.to('w1')).toEqual(['a#0', 'c#0']));
    expect(results.failure('r2')).toMatchObject({ type: 'APPLICATION', message: 'boom' });
    expect(transport.dials).toBe(1);
  });

  it('a restart: calls made meanwhile wait and go to the new instance, after the running call re-sent', async () => {
    const { transport, head, results, queue, call, answer } = setup(1);
    queue.headRecord(head.publish(aliveAt(HERE, 'w1')));
    const running = call('slow');
    await vi.waitFor(() => expect(transport.to('w1')).toEqual(['slow#0']));
    transport.peers.get('w1')!.closed(); // the worker died
    expect(queue.state).toEqual({ kind: 'waiting', lost: 'w1' });
    const later = call('next');
    head.publish({ state: 'RESTARTING', numRestarts: 1, maxRestarts: 1 });
    await new Promise((r) => setTimeout(r, 5));
    expect(transport.to('w2')).toEqual([]);
    head.publish(aliveAt(HERE, 'w2'));
    await vi.waitFor(() => expect(transport.to('w2')).toEqual(['slow#1', 'next#0']));
    answer('w2', running, 1);
    answer('w2', later);
    expect(results.states.get('r1')).toMatchObject({ status: 'ready' });
    expect(results.states.get('r2')).toMatchObject({ status: 'ready' });
  });

  it('a stale ALIVE record naming the worker that died does not take calls', async () => {
    const { transport, head, queue, call } = setup(1);
    queue.headRecord(head.publish(aliveAt(HERE, 'w1')));
    call('a');
    await vi.waitFor(() => expect(transport.to('w1')).toEqual(['a#0']));
    transport.peers.get('w1')!.closed();
    head.publish({ pid: 7 }); // a newer record, still ALIVE on w1
    await new Promise((r) => setTimeout(r, 5));
    expect(transport.to('w1')).toEqual(['a#0']);
    expect(queue.state.kind).toBe('waiting');
  });

  it('the actor moved while a call ran on the old worker: that call still reports, and the old worker\'s end loses no other call', async () => {
    const { transport, head, results, queue, call, answer } = setup(1);
    queue.headRecord(head.publish(aliveAt(HERE, 'w1')));
    const first = call('a');
    await vi.waitFor(() => expect(transport.to('w1')).toEqual(['a#0']));
    queue.headRecord(head.publish(aliveAt(HERE, 'w2')));
    const second = call('b');
    await vi.waitFor(() => expect(transport.to('w2')).toEqual(['b#0']));
    answer('w1', first);
    transport.peers.get('w1')!.closed();
    answer('w2', second);
    expect(results.states.get('r1')).toMatchObject({ status: 'ready' });
    expect(results.states.get('r2')).toMatchObject({ status: 'ready' });
    expect(queue.state).toMatchObject({ kind: 'alive', at: { workerId: 'w2' } });
    expect(transport.to('w2')).toEqual(['b#0']);
  });

  it('a call in flight without retries left fails with ActorUnavailableError while the actor may restart', async () => {
    const { transport, head, results, queue, call } = setup(0);
    queue.headRecord(head.publish({ ...aliveAt('node-far', 'w1'), maxRestarts: 2 }));
    call('a');
    queue.onOutcome({ taskId: 't1', attempt: 0, returnId: 'r1', nodeId: 'node-far', failure: { type: 'WORKER_DIED', message: 'gone' } });
    await vi.waitFor(() => expect(results.failure('r1')).toMatchObject({ type: 'ACTOR_UNAVAILABLE', actorId: 'a1' }));
    expect(transport.to('w1')).toEqual(['a#0']);
  });

  it('... also when the head restarted it already with its last restart (its node died): it is back, not dead', async () => {
    const { head, results, queue, call } = setup(0);
    queue.headRecord(head.publish({ ...aliveAt('node-far', 'w1'), maxRestarts: 1 }));
    // The head restarted it elsewhere (the restart counted) before this caller sent a call to the old worker.
    head.publish({ state: 'RESTARTING', nodeId: '', workerId: '', numRestarts: 1 });
    head.publish({ ...aliveAt('node-new', 'w2'), numRestarts: 1 });
    call('a');
    queue.onOutcome({ taskId: 't1', attempt: 0, returnId: 'r1', nodeId: 'node-far', failure: { type: 'WORKER_DIED', message: 'the actor\'s node is not alive' } });
    await vi.waitFor(() => expect(results.failure('r1')).toMatchObject({ type: 'ACTOR_UNAVAILABLE', message: expect.stringContaining('was restarted') }));
  });

  it('a call that never reached the actor (its node was gone) goes to the restarted instance without spending a retry', async () => {
    const { transport, head, results, queue, call } = setup(0);
    queue.headRecord(head.publish({ ...aliveAt('node-far', 'w1'), maxRestarts: 1 }));
    head.publish({ ...aliveAt('node-new', 'w2'), numRestarts: 1 });
    call('a');
    queue.onOutcome({ taskId: 't1', attempt: 0, returnId: 'r1', nodeId: 'node-far', failure: { type: 'WORKER_DIED', message: 'the actor\'s node is not alive', notDelivered: true } });
    await vi.waitFor(() => expect(transport.to('w2')).toEqual(['a#1']));
    expect(results.failure('r1')).toBeUndefined();
  });

  it('... and with ActorDiedError when it may not', async () => {
    const { head, results, queue, call } = setup(0);
    queue.headRecord(head.publish(aliveAt('node-far', 'w1')));
    call('a');
    queue.onOutcome({ taskId: 't1', attempt: 0, returnId: 'r1', nodeId: 'node-far', failure: { type: 'WORKER_DIED', message: 'gone' } });
    await vi.waitFor(() => expect(results.failure('r1')).toMatchObject({ type: 'ACTOR_DIED', deathCause: 'WORKER_DIED' }));
  });

  it('death: every waiting, in-flight and later call fails with ActorDiedError carrying the cause', async () => {
    const { transport, head, results, queue, call } = setup(1);
    queue.headRecord(head.publish(aliveAt(HERE, 'w1')));
    const late = deferred<TaskArg[]>();
    call('a');
    await vi.waitFor(() => expect(transport.to('w1')).toEqual(['a#0']));
    call('b', late.promise);
    transport.peers.get('w1')!.closed(); // a is queued again (one retry)
    const cause = Buffer.from([9, 9]);
    head.publish({ state: 'DEAD', deathCause: 'KILLED', deathMessage: 'killed by ray.kill()', creationFailure: { cause } as ActorInfoMsgOutput['creationFailure'] });
    await vi.waitFor(() => expect(queue.state.kind).toBe('dead'));
    call('c');
    late.resolve([]);
    await new Promise((r) => setTimeout(r, 5));
    for (const id of ['r1', 'r2', 'r3']) {
      expect(results.failure(id)).toMatchObject({ type: 'ACTOR_DIED', deathCause: 'KILLED', cause, message: expect.stringContaining('killed by ray.kill()') });
    }
    expect(transport.to('w1')).toEqual(['a#0']);
  });

  it('an actor the head does not know: its calls fail with ActorDiedError', async () => {
    const { results, call } = setup(0);
    call('a');
    await vi.waitFor(() => expect(results.failure('r1')).toMatchObject({ type: 'ACTOR_DIED', deathCause: 'UNKNOWN' }));
  });

  it('follows the head through its restart (a failed long-poll is asked again)', async () => {
    const { transport, head, call } = setup(0);
    head.publish({ state: 'PENDING_CREATION' });
    head.failNext = new Error('UNAVAILABLE');
    call('a');
    await new Promise((r) => setTimeout(r, 5));
    head.publish(aliveAt('node-far', 'w1'));
    await vi.waitFor(() => expect(transport.to('w1')).toEqual(['a#0']));
  });
});

describe('ActorCreator with its queue', () => {
  function creation(name: string, refusePatient = false) {
    const t = setup(0, 'registering');
    t.transport.refusePatient = refusePatient;
    const requests: string[] = [];
    const core = {
      address: { nodeId: HERE, clientId: 'c' },
      request: async (m: { type: string }) => {
        requests.push(m.type);
        return { type: 'reply' as const, reqId: 0, ok: true, info: { workerId: 'w-here', socketPath: '/sock/w-here' } };
      },
      exportFunction: async () => undefined,
      resolveArg: async (): Promise<TaskArg> => ({ kind: 'value', data: new Uint8Array() }),
      events: t.events,
      submitterTaskId: 'parent',
    };
    const creator = new ActorCreator({ core, head: t.head, config });
    const desc = { kind: 'class' as const, name: 'Counter', source: 'class Counter {}', hash: 'h' };
    creator.create(t.queue, desc, [], { className: 'Counter', name } as Omit<ActorSpecMsg, 'actorId' | 'args'>);
    const constructed = () => creator.onStartedHere(t.queue, { nodeId: HERE, workerId: 'w-here', socketPath: '/sock/w-here' });
    return { ...t, creator, requests, constructed };
  }

  it('an unnamed actor started here takes calls before the head confirms it, and registers once constructed', async () => {
    const { transport, head, queue, call, requests, constructed } = creation('');
    call('a');
    await vi.waitFor(() => expect(requests).toEqual(['reserveActor']));
    expect(head.registrations).toHaveLength(0); // waits for the construction
    constructed();
    await vi.waitFor(() => expect(transport.to('w-here')).toEqual(['a#0']));
    await vi.waitFor(() => expect(head.registrations).toHaveLength(1));
    expect(head.registrations[0]!.spec.reservedNodeId).toBe(HERE);
    head.registrations[0]!.resolve(head.publish({ ...aliveAt(HERE, 'w-here') }));
    await vi.waitFor(() => expect(queue.state.kind).toBe('alive'));
    expect(transport.dials).toBe(1);
  });

  it('an early connection that never opens is forgotten: the actor is not lost, calls connect anew once it is ready', async () => {
    const { transport, head, queue, call, requests, constructed } = creation('', true);
    call('a');
    await vi.waitFor(() => expect(requests).toEqual(['reserveActor']));
    await vi.waitFor(() => expect(transport.dials).toBe(1));
    expect(queue.state.kind).toBe('registering');
    constructed();
    await vi.waitFor(() => expect(transport.to('w-here')).toEqual(['a#0']));
    expect(transport.dials).toBe(2);
    expect(head.registrations).toHaveLength(1);
  });

  it('a named actor\'s calls wait for the head to accept the name', async () => {
    const { transport, head, queue, call, creator, constructed } = creation('counter');
    call('a');
    await vi.waitFor(() => expect(head.registrations).toHaveLength(1)); // no wait for the construction
    constructed();
    await new Promise((r) => setTimeout(r, 5));
    expect(transport.to('w-here')).toEqual([]);
    expect(queue.state.kind).toBe('registering');
    head.registrations[0]!.resolve(head.publish({ state: 'PENDING_CREATION' }));
    await creator.settle();
    await vi.waitFor(() => expect(transport.to('w-here')).toEqual(['a#0']));
    expect(queue.state).toMatchObject({ kind: 'starting-here', headKnows: true });
  });

  it('a refused name: calls fail with ActorDiedError and the raylet drops the actor it started', async () => {
    const { head, results, call, creator, requests, constructed } = creation('counter');
    call('a');
    await vi.waitFor(() => expect(head.registrations).toHaveLength(1));
    constructed();
    head.registrations[0]!.reject(new AlreadyExistsError("an actor named 'counter' already exists"));
    await creator.settle();
    expect(results.failure('r1')).toMatchObject({ type: 'ACTOR_DIED', deathCause: 'CREATION_FAILED', message: expect.stringContaining('already exists') });
    await vi.waitFor(() => expect(requests).toEqual(['reserveActor', 'releaseActor']));
  });
});
