import { describe, expect, it } from 'vitest';
import { ObjectLostError, OutOfMemoryError, TaskCancelledError, NodeDiedError, RayTaskError, WorkerCrashedError } from './errors.js';
import { failureToError } from './failure.js';
import { errorTypeOf } from './event_report.js';
import { MemoryStore } from './memory_store.js';
import { TaskManager, type TaskRecord } from './task_manager.js';
import { Lineage } from './lineage.js';
import { ObjectReleaser } from './object_releaser.js';
import { ReferenceTable } from './reference_table.js';
import { CallSiteRecorder } from './call_site.js';
import type { ObjectRef } from './object_ref.js';
import { TaskArgs } from './task_args.js';
import type { CancelTask, ClientRequest, SubmitTask, TaskFailure, TaskOutcome } from './protocol/messages.js';

type ObjDelete = Extract<ClientRequest, { type: 'objDelete' }>;
import type { TaskOptions } from './task_options.js';
import { RecordingTaskEvents } from './task_events.test_helper.js';

const DESC = { kind: 'function' as const, name: 'f', source: '() => 1', hash: 'h1' };
const NO_DECODE = { decode: () => undefined, decodeInPlace: () => undefined, decodeStreamed: () => undefined };

/** A TaskManager over fakes: the transport records what it sends; the function is exported already. */
function setup(taskOomRetries = 15) {
  const sent: (SubmitTask | CancelTask)[] = [];
  const store = new MemoryStore();
  // Resolves refs as TaskArgs does: once settled, a failed one throws DependencyFailedError.
  const owner = { nodeId: 'node1', clientId: 'c1' };
  const lineage = new Lineage<TaskRecord>();
  const deleted: string[] = [];
  const releaser = new ObjectReleaser({
    store, lineage, transport: { request: (async (m: ObjDelete) => { deleted.push(...m.objects.map((o) => o.objectId)); return { type: 'reply', reqId: 0, ok: true }; }) as never },
  });
  const references = new ReferenceTable(store, new CallSiteRecorder(false), owner, releaser);
  const args = new TaskArgs({ store, references, plasma: { maxInlineBytes: 100, storeValue: async () => ({ kind: 'inline', data: new Uint8Array(), objectId: 'x' }) } });
  const events = new RecordingTaskEvents();
  const tasks = new TaskManager({
    transport: { send: (m) => sent.push(m) },
    store,
    references,
    lineage,
    releaser,
    functions: { exportFunction: async () => undefined, isExported: () => true },
    args,
    job: { jobId: 'job1', driverNodeId: '', submitterTaskId: 'parent' },
    owner,
    events,
    taskOomRetries,
  });
  const submits = () => sent.filter((m): m is SubmitTask => m.type === 'submit');
  const submit = (options: TaskOptions = {}) => tasks.submitTask(DESC, [], options);
  /** The outcome of the last attempt sent for `ref`. */
  const answer = (ref: ObjectRef, result: { failure?: TaskFailure; plasma?: boolean }, attempt?: number) => {
    const last = submits().filter((m) => m.task.returnId === ref.id).at(-1)!.task;
    const outcome: TaskOutcome = {
      taskId: last.taskId, attempt: attempt ?? last.attempt, returnId: ref.id, nodeId: 'node1',
      ...(result.failure ? { failure: result.failure } : { value: result.plasma ? { kind: 'plasma', nodeId: 'node1', size: 10 } : { kind: 'inline', data: new Uint8Array([1]) } }),
    };
    tasks.handleOutcome(outcome);
  };
  const errorOf = (ref: ObjectRef) => {
    const state = store.get(ref.id);
    return state?.status === 'failed' ? failureToError(state.failure, state.taskName, NO_DECODE) : undefined;
  };
  /** The refs `rayts memory` shows as taken by a task in flight. */
  const pendingArgs = () => references.refsInfo(() => 0).filter((r) => r.referenceType === 'USED_BY_PENDING_TASK').map((r) => r.objectId);
  return { tasks, sent, store, submits, submit, answer, errorOf, pendingArgs, events, references, releaser, deleted };
}

const WORKER_DIED: TaskFailure = { type: 'WORKER_DIED', message: 'SIGKILL' };
const NODE_DIED: TaskFailure = { type: 'NODE_DIED', message: 'gone' };
const THREW: TaskFailure = { type: 'APPLICATION', message: 'boom', errorName: 'Error', stack: '' };

const OOM: TaskFailure = { type: 'WORKER_DIED', message: 'task f was killed because the node ran low on memory (node 10.0.0.1)', errorName: 'OutOfMemoryError' };

describe('TaskManager: tasks killed by a memory monitor', () => {
  it('retries within taskOomRetries without spending maxRetries, then fails with the OutOfMemoryError', () => {
    const t = setup(2);
    const ref = t.submit({ maxRetries: 1 });
    t.answer(ref, { failure: OOM });
    t.answer(ref, { failure: OOM });
    expect(t.submits().map((m) => m.task.attempt)).toEqual([0, 1, 2]);
    // A worker death still has its one retry: the OOM retries did not spend it.
    t.answer(ref, { failure: WORKER_DIED });
    expect(t.submits().map((m) => m.task.attempt)).toEqual([0, 1, 2, 3]);
    // OOM budget spent: the next kill settles it.
    t.answer(ref, { failure: OOM });
    expect(t.submits()).toHaveLength(4);
    const err = t.errorOf(ref);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err!.message).toBe(OOM.message);
    // Task events: the killed attempts show as OUT_OF_MEMORY, the crash as WORKER_DIED.
    const types = t.events.events.flatMap((e) => (e.kind === 'outcome' && e.outcome.failure ? [errorTypeOf(e.outcome.failure)] : []));
    expect(types).toEqual(['OUT_OF_MEMORY', 'OUT_OF_MEMORY', 'WORKER_DIED', 'OUT_OF_MEMORY']);
  });

  it('succeeds when an OOM retry does', () => {
    const t = setup(2);
    const ref = t.submit();
    t.answer(ref, { failure: OOM });
    t.answer(ref, {});
    expect(t.store.get(ref.id)?.status).toBe('ready');
  });

  it('does not retry a task with maxRetries 0, and marks its spec not retriable for the memory monitor', () => {
    const t = setup(5);
    const ref = t.submit({ maxRetries: 0 });
    expect(t.submits()[0]!.task.retriable).toBe(false);
    t.answer(ref, { failure: OOM });
    expect(t.submits()).toHaveLength(1);
    expect(t.errorOf(ref)).toBeInstanceOf(OutOfMemoryError);
  });

  it('-1 retries without limit', () => {
    const t = setup(-1);
    const ref = t.submit({ maxRetries: 1 });
    for (let i = 0; i < 40; i++) t.answer(ref, { failure: OOM });
    expect(t.submits()).toHaveLength(41);
    expect(t.submits()[0]!.task.retriable).toBeUndefined();
    expect(t.store.get(ref.id)?.status).toBe('pending');
  });
});

describe('TaskManager', () => {
  it('sends a task with the job, owner and resources of its options', () => {
    const t = setup();
    const ref = t.submit({ numCpus: 2 });
    expect(t.submits()).toHaveLength(1);
    const spec = t.submits()[0]!.task;
    expect(spec).toMatchObject({ returnId: ref.id, jobId: 'job1', attempt: 0, resources: { CPU: 2 }, owner: { nodeId: 'node1' }, driverNodeId: 'node1' });
    expect(t.store.get(ref.id)?.status).toBe('pending');
  });

  it.each([
    ['worker death', WORKER_DIED, WorkerCrashedError],
    ['node death', NODE_DIED, NodeDiedError],
  ])('retries on %s up to maxRetries, then fails with its error', (_name, failure, ErrorClass) => {
    const t = setup();
    const ref = t.submit({ maxRetries: 2 });
    t.answer(ref, { failure });
    t.answer(ref, { failure });
    expect(t.submits().map((m) => m.task.attempt)).toEqual([0, 1, 2]);
    expect(t.store.get(ref.id)?.status).toBe('pending');
    t.answer(ref, { failure });
    expect(t.submits()).toHaveLength(3);
    expect(t.errorOf(ref)).toBeInstanceOf(ErrorClass);
  });

  it('does not retry an application error without retryExceptions', () => {
    const t = setup();
    const ref = t.submit({ maxRetries: 3 });
    t.answer(ref, { failure: THREW });
    expect(t.submits()).toHaveLength(1);
    expect(t.errorOf(ref)).toBeInstanceOf(RayTaskError);
  });

  it('retries an application error with retryExceptions, and a later success settles the value', () => {
    const t = setup();
    const ref = t.submit({ maxRetries: 3, retryExceptions: true });
    t.answer(ref, { failure: THREW });
    expect(t.submits()).toHaveLength(2);
    t.answer(ref, {});
    expect(t.store.get(ref.id)?.status).toBe('ready');
  });

  it('cancel sends the cancel and gives TaskCancelledError whatever comes back', () => {
    for (const result of [{}, { failure: WORKER_DIED }, { failure: THREW }]) {
      const t = setup();
      const ref = t.submit({ maxRetries: 3 });
      t.tasks.cancel(ref, true);
      expect(t.sent.at(-1)).toEqual({ type: 'cancel', taskId: t.submits()[0]!.task.taskId, force: true });
      t.answer(ref, result);
      expect(t.submits()).toHaveLength(1); // no retry of a cancelled task
      expect(t.errorOf(ref)).toBeInstanceOf(TaskCancelledError);
    }
  });

  it('reports every attempt: submitted and sent, then its outcome; a retry is a new attempt of the same task', () => {
    const t = setup();
    const ref = t.submit({ maxRetries: 1 });
    const taskId = t.submits()[0]!.task.taskId;
    t.answer(ref, { failure: WORKER_DIED });
    t.answer(ref, {});
    expect(t.events.of(taskId)).toEqual([
      'submitted:0', 'sentToRaylet:0', 'outcome:0:WORKER_DIED', 'submitted:1', 'sentToRaylet:1', 'outcome:1:ok',
    ]);
    const submitted = t.events.events.find((e) => e.kind === 'submitted');
    expect(submitted?.kind === 'submitted' && submitted.info).toMatchObject({ type: 'NORMAL_TASK', name: 'f', funcOrClassName: 'f', parentTaskId: 'parent', requiredResources: { CPU: 1 } });
  });

  it('reports a cancelled attempt as TASK_CANCELLED whatever came back, and arguments that failed as DEPENDENCY_RESOLUTION_FAILED', async () => {
    const t = setup();
    const ref = t.submit();
    t.tasks.cancel(ref, false);
    t.answer(ref, {});
    const cancelled = t.events.events.find((e) => e.kind === 'outcome');
    expect(cancelled?.kind === 'outcome' && cancelled.outcome.failure?.type).toBe('CANCELLED');

    const upstream = t.submit();
    const downstream = t.tasks.submitTask(DESC, [upstream], {});
    t.answer(upstream, { failure: THREW });
    await new Promise((r) => setImmediate(r));
    expect(t.errorOf(downstream)).toBeDefined();
    const failed = t.events.events.filter((e) => e.kind === 'failed');
    expect(failed.map((e) => e.kind === 'failed' && e.failure.errorType)).toEqual(['DEPENDENCY_RESOLUTION_FAILED']);
  });

  it('ignores outcomes of stale attempts', () => {
    const t = setup();
    const ref = t.submit({ maxRetries: 1 });
    t.answer(ref, { failure: WORKER_DIED });
    t.answer(ref, { failure: WORKER_DIED }, 0); // attempt 0 again (a late duplicate)
    expect(t.submits()).toHaveLength(2);
    expect(t.store.get(ref.id)?.status).toBe('pending');
    t.answer(ref, {});
    expect(t.store.get(ref.id)?.status).toBe('ready');
    expect(t.tasks.attemptOf(ref.id)).toBe(0); // inline output: no lineage kept
  });

  it('rebuilds a lost stored output by re-running its task, which takes a retry', () => {
    const t = setup();
    const ref = t.submit({ maxRetries: 1 });
    t.answer(ref, { plasma: true });
    expect(t.store.get(ref.id)?.status).toBe('ready');
    t.tasks.reconstruct(ref.id, new ObjectLostError('object lost'));
    expect(t.submits().map((m) => m.task.attempt)).toEqual([0, 1]);
    expect(t.store.get(ref.id)?.status).toBe('pending');
    t.answer(ref, { plasma: true });
    expect(t.store.get(ref.id)?.status).toBe('ready');
    expect(t.tasks.attemptOf(ref.id)).toBe(1);
    // The one retry is used: a second loss cannot be rebuilt.
    expect(() => t.tasks.reconstruct(ref.id, new ObjectLostError('lost again'))).toThrow(/none are left/);
    expect(t.submits()).toHaveLength(2);
  });

  it('shares the retry budget between system failures and reconstruction', () => {
    const t = setup();
    const ref = t.submit({ maxRetries: 1 });
    t.answer(ref, { failure: WORKER_DIED });
    t.answer(ref, { plasma: true });
    expect(() => t.tasks.reconstruct(ref.id, new ObjectLostError('lost'))).toThrow(ObjectLostError);
  });

  it('cannot rebuild what it did not make by a task, nor what was freed', () => {
    const t = setup();
    expect(() => t.tasks.reconstruct('put-object', new ObjectLostError('lost'))).toThrow(/created by put/);
    const ref = t.submit({ maxRetries: 3 });
    t.answer(ref, { plasma: true });
    t.references.free(ref.id);
    expect(() => t.tasks.reconstruct(ref.id, new ObjectLostError('lost'))).toThrow(ObjectLostError);
  });

  it('holds a task until its ref arguments settle, and fails it with a failed dependency without sending it', async () => {
    const t = setup();
    const dep = t.submit({ maxRetries: 0 });
    const ref = t.tasks.submitTask(DESC, [dep], {});
    await new Promise((r) => setImmediate(r));
    expect(t.pendingArgs()).toEqual([dep.id]);
    expect(t.submits().map((m) => m.task.returnId)).not.toContain(ref.id);
    t.answer(dep, { failure: THREW });
    await new Promise((r) => setImmediate(r));
    expect(t.submits().map((m) => m.task.returnId)).not.toContain(ref.id);
    expect(t.errorOf(ref)).toBeInstanceOf(RayTaskError);
    expect((t.errorOf(ref) as RayTaskError).remoteMessage).toBe('boom');
  });
});
