/**
 * The owner's side of normal tasks: it makes the spec, sends it once its function is in the head's
 * function table and its arguments are ready, and settles the result in the memory store when the
 * outcome comes back. A task whose worker or node died is sent again (a new attempt) while retries
 * last; one that threw only with `retryExceptions`. Outcomes of older attempts are ignored. A task
 * whose worker the memory monitor killed (OutOfMemoryError) is retried from a budget of its own,
 * `taskOomRetries` (Ray's task_oom_retries; -1 = no limit), which does not spend `maxRetries`; a
 * task with maxRetries 0 is not retried for that either (as Ray).
 *
 * Finished tasks whose output sits in an object store are kept (the lineage, lineage.ts) while the
 * output is referenced: if that copy is lost, the task runs again, which takes one of its retries. A
 * task not kept lets go of the argument values stored for it once it finished.
 */
import { DependencyFailedError, ObjectLostError } from './errors.js';
import { errorToFailure } from './failure.js';
import { ownerFailure, taskInfo } from './event_report.js';
import type { TaskInfo } from '@rayts/common';
import type { OwnerTaskEvents } from './task_event_buffer.js';
import { newObjectId, newTaskId } from './ids.js';
import type { Lineage } from './lineage.js';
import { ObjectRef } from './object_ref.js';
import { DEFAULT_MAX_RETRIES, resourceShape, strategyOf, type TaskOptions } from './task_options.js';
import type { RemoteFunctionDescriptor } from './function/descriptor.js';
import type { MemoryStore } from './memory_store.js';
import type { ArgResolver } from './task_args.js';
import type { Address, CancelTask, SubmitTask, TaskArg, TaskFailure, TaskOutcome, TaskSpec } from './protocol/messages.js';

export interface TaskManagerDeps {
  transport: { send(message: SubmitTask | CancelTask): void };
  store: Pick<MemoryStore, 'addPending' | 'resolve' | 'reset'>;
  references: {
    created<T extends ObjectRef>(ref: T): T;
    addPendingArgs(ids: readonly string[]): void;
    releasePendingArgs(ids: readonly string[]): void;
    holdForLineage(ids: readonly string[]): void;
    releaseLineageHolds(ids: readonly string[]): void;
  };
  /** Finished tasks kept to rebuild their outputs (shared with the ObjectReleaser, which drops them with their outputs). */
  lineage: Lineage<TaskRecord>;
  /** Lets go of what a task that is not kept held (its stored argument values, its lineage holds). */
  releaser: { dropTask(record: TaskRecord, unhold: (ids: readonly string[]) => void): void };
  functions: { exportFunction(desc: RemoteFunctionDescriptor): Promise<void>; isExported(hash: string): boolean };
  args: ArgResolver;
  /** The job tasks submitted now belong to (it changes per task in a worker), and the task submitting them. */
  job: { readonly jobId: string; readonly driverNodeId: string; readonly submitterTaskId: string };
  /** This process: the owner of the results. */
  owner: Address;
  /** Task events of the attempts owned here. */
  events: OwnerTaskEvents;
  /** Retries of a task killed by a memory monitor (-1 = no limit), apart from its maxRetries. */
  taskOomRetries: number;
}

/**
 * A task from submission until its result is settled (then it may stay as lineage).
 * `running`: an attempt is in flight (or its arguments are being resolved);
 * `cancelled`: `cancel` was called, and whatever comes back, the result is TaskCancelledError.
 */
export interface TaskRecord {
  spec: TaskSpec;
  state: 'running' | 'cancelled';
  retriesLeft: number;
  /** Retries left after a memory monitor killed its worker. */
  oomRetriesLeft: number;
  retryExceptions: boolean;
  /** Refs passed as arguments: USED_BY_PENDING_TASK while the task is in flight. */
  argRefs: string[];
  /** What the task is, for the task events of each attempt. */
  info: TaskInfo;
  /** Where the current attempt's task events are (a hint for the buffer). */
  events: number;
  /** Its argRefs are held for its lineage (it was kept, and may be again after a rebuild). */
  heldByLineage: boolean;
}

export class TaskManager {
  /** Tasks in flight, by return id. */
  private readonly tasks = new Map<string, TaskRecord>();
  /** The info of the last task submitted: the next of the same function from the same task shares it (one object, sent once per report). */
  private lastInfo?: { fnHash: string; info: TaskInfo };
  /** The resources and strategy of the last options seen: tasks submitted with the same options object share them. */
  private lastShape?: { options: TaskOptions; resources: TaskSpec['resources']; strategy: TaskSpec['strategy'] };

  constructor(private readonly deps: TaskManagerDeps) {}

  submitTask(desc: RemoteFunctionDescriptor, args: unknown[], options: TaskOptions, depth = 0): ObjectRef {
    const { owner, job } = this.deps;
    const returnId = newObjectId();
    this.deps.store.addPending(returnId);
    const { resources, strategy } = this.shapeOf(options);
    const spec: TaskSpec = {
      taskId: newTaskId(), jobId: job.jobId, attempt: 0, name: options.name ?? desc.name, fnHash: desc.hash, args: NO_ARGS, returnId,
      resources, strategy, owner, depth,
      driverNodeId: job.driverNodeId || owner.nodeId,
    };
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (maxRetries === 0) spec.retriable = false;
    const oomRetries = maxRetries === 0 ? 0 : this.deps.taskOomRetries < 0 ? Infinity : this.deps.taskOomRetries;
    const info = this.infoOf(spec, desc.name, job.submitterTaskId);
    const record: TaskRecord = {
      spec, state: 'running', retriesLeft: maxRetries < 0 ? Infinity : maxRetries, oomRetriesLeft: oomRetries, retryExceptions: options.retryExceptions ?? false, argRefs: NO_REFS, info,
      events: this.deps.events.submitted(spec.taskId, 0, spec.jobId, info), heldByLineage: false,
    };
    this.tasks.set(returnId, record);
    const ref = this.deps.references.created(new ObjectRef(returnId, owner));
    if (this.deps.functions.isExported(desc.hash) && !args.some((a) => a instanceof ObjectRef)) {
      let inline: TaskArg[] | undefined;
      try {
        inline = this.deps.args.inlineArgs(args, spec.name);
      } catch (err) {
        this.failLocally(spec, errorToFailure('SERIALIZATION', err));
        return ref;
      }
      if (inline) {
        if (inline.length > 0) spec.args = inline; // else it keeps the shared NO_ARGS
        this.send(record);
        return ref;
      }
    }
    void this.submitWhenReady(desc, record, args);
    return ref;
  }

  /** Exports the function and resolves the arguments, then sends the task (or settles its failure). */
  private async submitWhenReady(desc: RemoteFunctionDescriptor, record: TaskRecord, args: unknown[]): Promise<void> {
    const { spec } = record;
    try {
      await this.deps.functions.exportFunction(desc);
    } catch (err) {
      // The head did not take the function (it stayed away past RAYTS_GCS_RECONNECT_TIMEOUT_S, say):
      // the task cannot be sent anywhere, and the error says why.
      this.failLocally(spec, errorToFailure('UNSCHEDULABLE', err));
      return;
    }
    try {
      const refs = args.filter((a): a is ObjectRef => a instanceof ObjectRef).map((r) => r.id);
      if (this.tasks.get(spec.returnId) === record && refs.length > 0) {
        record.argRefs = refs;
        this.deps.references.addPendingArgs(refs);
      }
      spec.args = await Promise.all(args.map((a, i) => this.deps.args.resolveArg(a, i, spec.name)));
    } catch (err) {
      this.failLocally(spec, err instanceof DependencyFailedError ? err.failure : errorToFailure('SERIALIZATION', err));
      return;
    }
    this.send(record);
  }

  private send(record: TaskRecord): void {
    const { spec } = record;
    record.events = this.deps.events.sentToRaylet(spec.taskId, spec.attempt, spec.jobId, record.events);
    this.deps.transport.send({ type: 'submit', task: spec });
  }

  /** The task never left: its arguments could not be resolved or encoded. */
  private failLocally(spec: TaskSpec, failure: TaskFailure): void {
    const record = this.tasks.get(spec.returnId);
    if (record) this.finish(record);
    this.deps.events.failed(spec.taskId, spec.attempt, spec.jobId, { errorType: 'DEPENDENCY_RESOLUTION_FAILED', message: ownerFailure(failure).message }, record?.events);
    this.deps.store.resolve(spec.returnId, { status: 'failed', failure, taskName: spec.name });
  }

  /** Cancels the task that makes `ref` (no effect once it finished). */
  cancel(ref: ObjectRef, force: boolean): void {
    const record = this.tasks.get(ref.id);
    if (!record || record.state === 'cancelled') return;
    record.state = 'cancelled';
    this.deps.transport.send({ type: 'cancel', taskId: record.spec.taskId, force });
  }

  /** The outcome of an attempt: retried, or settled in the memory store. */
  handleOutcome(outcome: TaskOutcome): void {
    const record = this.tasks.get(outcome.returnId);
    if (!record || outcome.attempt !== record.spec.attempt) return; // a stale attempt
    const { events } = this.deps;
    if (record.state === 'cancelled') {
      this.finish(record);
      events.outcome(record.spec.jobId, outcome.failure?.type === 'CANCELLED' ? outcome : { ...outcome, value: undefined, failure: { type: 'CANCELLED', message: 'cancelled by ray.cancel()' } }, record.events);
      this.deps.store.resolve(outcome.returnId, { status: 'failed', failure: { type: 'CANCELLED', message: 'cancelled' }, taskName: record.spec.name });
      return;
    }
    if (outcome.failure) {
      const systemFailure = outcome.failure.type === 'WORKER_DIED' || outcome.failure.type === 'NODE_DIED';
      const retriable = systemFailure || (outcome.failure.type === 'APPLICATION' && record.retryExceptions);
      events.outcome(record.spec.jobId, outcome, record.events);
      if (isOomKill(outcome.failure)) {
        if (record.oomRetriesLeft > 0) {
          record.oomRetriesLeft -= 1;
          this.resubmit(record, false);
          return;
        }
      } else if (retriable && record.retriesLeft > 0) {
        this.resubmit(record);
        return;
      }
      this.finish(record);
      this.deps.store.resolve(outcome.returnId, { status: 'failed', failure: outcome.failure, taskName: record.spec.name });
      return;
    }
    events.outcome(record.spec.jobId, outcome, record.events);
    this.finish(record, outcome.value!.kind === 'plasma');
    this.deps.store.resolve(outcome.returnId, { status: 'ready', value: outcome.value! });
  }

  /**
   * Lineage reconstruction: the stored output `objectId` is lost; its task runs again (a new attempt,
   * taking one retry) and the entry is pending until it settles. Throws ObjectLostError when the
   * object cannot be rebuilt (made by put, or no retries left).
   */
  reconstruct(objectId: string, lost: ObjectLostError): void {
    const record = this.deps.lineage.get(objectId);
    if (!record) {
      throw new ObjectLostError(`${lost.message}. It was created by put, so it cannot be rebuilt: only task outputs are (by re-running their task)`,
        'put the value again from its source; data that must survive the loss of its copy should be made by a task, which lineage can re-run');
    }
    if (record.retriesLeft <= 0) throw new ObjectLostError(`${lost.message}; rebuilding it needs a retry of ${record.spec.name}, and none are left`);
    this.deps.lineage.take(objectId);
    record.state = 'running';
    this.tasks.set(objectId, record);
    this.deps.references.addPendingArgs(record.argRefs);
    this.deps.store.reset(objectId);
    this.resubmit(record);
  }

  /** The attempt of the task that makes the object (0 when it is not a task's). */
  attemptOf(objectId: string): number {
    return (this.tasks.get(objectId) ?? this.deps.lineage.get(objectId))?.spec.attempt ?? 0;
  }

  /** Resources and strategy of `options` (specs are not changed once made, so tasks share them). */
  private shapeOf(options: TaskOptions): { resources: TaskSpec['resources']; strategy: TaskSpec['strategy'] } {
    const last = this.lastShape;
    if (last && last.options === options) return last;
    const shape = { options, resources: resourceShape(options), strategy: strategyOf(options.scheduling) };
    this.lastShape = shape;
    return shape;
  }

  /** What the task is, for its events: the last one's when it is the same. */
  private infoOf(spec: TaskSpec, funcName: string, parentTaskId: string): TaskInfo {
    const last = this.lastInfo;
    if (last && last.fnHash === spec.fnHash && last.info.name === spec.name && last.info.parentTaskId === parentTaskId
      && sameAmounts(last.info.requiredResources, spec.resources)) return last.info;
    const info = taskInfo('NORMAL_TASK', spec.name, funcName, parentTaskId, spec.resources);
    this.lastInfo = { fnHash: spec.fnHash, info };
    return info;
  }

  /** A new attempt; `spendRetry` false for an OOM retry (its budget was spent by the caller). */
  private resubmit(record: TaskRecord, spendRetry = true): void {
    if (spendRetry) record.retriesLeft -= 1;
    const spec = { ...record.spec, attempt: record.spec.attempt + 1 };
    record.spec = spec;
    record.events = this.deps.events.submitted(spec.taskId, spec.attempt, spec.jobId, record.info);
    this.send(record);
  }

  /** The task settled; `keep`: its output is stored, so it is kept as lineage (with holds on its argument refs). */
  private finish(record: TaskRecord, keep = false): void {
    const { references, lineage, releaser } = this.deps;
    this.tasks.delete(record.spec.returnId);
    if (keep) {
      lineage.keep(record.spec.returnId, record);
      if (!record.heldByLineage) {
        record.heldByLineage = true;
        references.holdForLineage(record.argRefs);
      }
    }
    references.releasePendingArgs(record.argRefs);
    if (!keep) releaser.dropTask(record, (ids) => references.releaseLineageHolds(ids));
  }
}

/** A task's arguments before they are encoded, and a task's refs when it takes none (shared: never changed). */
const NO_ARGS: TaskSpec['args'] = Object.freeze([]) as unknown as TaskSpec['args'];
const NO_REFS: string[] = Object.freeze([]) as unknown as string[];

/** The memory monitor killed the attempt's worker. */
function isOomKill(failure: TaskFailure): boolean {
  return failure.type === 'WORKER_DIED' && failure.errorName === 'OutOfMemoryError';
}

function sameAmounts(a: Record<string, number>, b: Record<string, number>): boolean {
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n += 1;
  }
  return n === Object.keys(a).length;
}
