/**
 * The caller side of actors, as the core worker and the API see it: creating an actor (actor_creator.ts),
 * handles for actors the head knows, calls (one ActorQueue per actor, actor_queue.ts) and kills. The
 * core worker routes to it what arrives for actor calls on its raylet connection: relayed outcomes
 * (`handleOutcome`) and the raylet's word that an actor this process created is constructed
 * (`handleActorReady`).
 */
import { GcsActorClient, headPatience, type ActorInfoMsgOutput } from '@rayts/common';
import type { ActorCallerConfig, ActorCore } from './actor_core.js';
import { ActorCreator, type NewActorSpec } from './actor_creator.js';
import { makeActorHandle, type ActorCalls, type ActorHandleBase, type ActorHandleData } from './actor_handle.js';
import { ActorQueue } from './actor_queue.js';
import { RayletTransport } from './actor_transport.js';
import { ObjectRef } from '../object_ref.js';
import { newObjectId, newTaskId } from '../ids.js';
import { PendingCallsLimitExceededError } from '../errors.js';
import type { RemoteFunctionDescriptor } from '../function/descriptor.js';
import { taskInfo } from '../event_report.js';
import type { ActorReady, TaskArg, TaskOutcome, TaskSpec } from '../protocol/messages.js';

export class ActorSubmitter implements ActorCalls {
  /** The head's actor directory (also used by the API for lookups by name and listings). */
  readonly gcs: GcsActorClient;
  private readonly transport: RayletTransport;
  private readonly creator: ActorCreator;
  private readonly queues = new Map<string, ActorQueue>();

  constructor(private readonly core: ActorCore, private readonly config: ActorCallerConfig) {
    // Registrations, lookups by name and kills wait for a head that restarts (RAYTS_GCS_RECONNECT_TIMEOUT_S).
    this.gcs = new GcsActorClient(core.options.gcsAddress, {
      token: core.options.token, tls: core.options.tls, timeoutMs: core.options.gcsTimeoutMs ?? config.gcsRpcTimeoutMs, patience: headPatience(core.options.gcsAddress, config),
    });
    this.transport = new RayletTransport(core, config.actorEarlyConnectMs);
    this.creator = new ActorCreator({ core, head: this.gcs, config });
  }

  /** Registers the actor with the head (asynchronously) and returns its handle at once. */
  create(desc: RemoteFunctionDescriptor, data: Omit<ActorHandleData, 'actorId'>, args: unknown[], spec: NewActorSpec): ActorHandleBase {
    const full: ActorHandleData = { ...data, actorId: this.creator.newActorId() };
    this.creator.create(this.queueFor(full, 'registering'), desc, args, spec);
    return this.bindData(full);
  }

  /** Resolves once every actor created here is registered with the head (or failed to be): before a driver's job ends. */
  settle(): Promise<void> {
    return this.creator.settle();
  }

  /** A handle for an actor the head already knows (getActor). */
  handleFor(info: ActorInfoMsgOutput): ActorHandleBase {
    const data: ActorHandleData = {
      actorId: info.actorId, className: info.className, methodNames: info.methodNames, maxTaskRetries: info.maxTaskRetries, maxPendingCalls: info.maxPendingCalls,
    };
    this.queueFor(data, 'waiting').headRecord(info);
    return this.bindData(data);
  }

  /** A handle whose calls go through this submitter (also for handles decoded from values). */
  bindData(data: ActorHandleData): ActorHandleBase {
    return makeActorHandle(data, this);
  }

  /** Calls a method of the actor: its result, or its failure, arrives in the returned ref. */
  submit(data: ActorHandleData, method: string, args: unknown[]): ObjectRef {
    const queue = this.queueFor(data, 'waiting');
    const pending = queue.pending;
    if (data.maxPendingCalls >= 0 && pending >= data.maxPendingCalls) {
      throw new PendingCallsLimitExceededError(`${data.className}.${method}: the handle has ${pending} calls pending (maxPendingCalls ${data.maxPendingCalls})`,
        'wait for some results before calling again, or raise maxPendingCalls');
    }
    const { core } = this;
    const returnId = newObjectId();
    core.store.addPending(returnId);
    const spec: TaskSpec = {
      taskId: newTaskId(), jobId: core.jobId, attempt: 0, name: `${data.className}.${method}`, fnHash: '', args: [], returnId,
      resources: {}, strategy: { kind: 'DEFAULT' }, owner: core.address, depth: 0,
      driverNodeId: core.driverNodeId || core.address.nodeId, actorId: data.actorId, method,
    };
    const info = taskInfo('ACTOR_TASK', spec.name, spec.name, core.submitterTaskId, undefined, data.actorId);
    const events = core.events.submitted(spec.taskId, 0, spec.jobId, info);
    // Refs the call takes stay while it is in flight (its result settles when it ends, or fails).
    const argRefs = refIds(args);
    if (argRefs.length > 0) {
      core.references.addPendingArgs(argRefs);
      core.store.onSettled(returnId, () => core.references.releasePendingArgs(argRefs));
    }
    queue.push(spec, this.inlineArgs(args, spec.name) ?? Promise.all(args.map((a, i) => core.resolveArg(a, i, spec.name))), info, events);
    return core.references.created(new ObjectRef(returnId, core.address));
  }

  /** Kills the actor at the head; for good unless `noRestart` is false. */
  async kill(data: ActorHandleData, noRestart: boolean): Promise<void> {
    await this.creator.whenRegistered(data.actorId); // the head must know it first
    await this.gcs.killActor(data.actorId, noRestart);
    if (!noRestart) return;
    this.queueFor(data, 'waiting').die({
      type: 'ACTOR_DIED', message: `the actor ${data.className} (${data.actorId}) is dead (KILLED): it was killed by ray.kill()`, actorId: data.actorId, deathCause: 'KILLED',
    });
  }

  /** The outcome of a task from the raylet: true when it is an actor call's (relayed), which is handled here. */
  handleOutcome(outcome: TaskOutcome): boolean {
    const actorId = this.transport.takeRelayed(outcome.taskId);
    if (actorId === undefined) return false;
    this.queues.get(actorId)?.onOutcome(outcome);
    return true;
  }

  /** This node's raylet constructed an actor this process created: it may be called before the head says so. */
  handleActorReady(m: ActorReady): void {
    const queue = this.queues.get(m.actorId);
    if (queue) this.creator.onStartedHere(queue, { nodeId: this.core.address.nodeId, workerId: m.workerId, socketPath: m.socketPath });
  }

  /** Drops the connections to actor workers and the head. */
  close(): void {
    for (const queue of this.queues.values()) queue.close();
    this.gcs.close();
  }

  /** The actor's queue; a new one starts `initial` (registering: created here; waiting: the head knows it). */
  private queueFor(data: ActorHandleData, initial: 'registering' | 'waiting'): ActorQueue {
    let queue = this.queues.get(data.actorId);
    if (!queue) {
      queue = new ActorQueue(data, initial, { transport: this.transport, head: this.gcs, results: this.core.store, config: this.config, events: this.core.events });
      this.queues.set(data.actorId, queue);
    }
    return queue;
  }

  /** The arguments encoded inline now, or undefined for the asynchronous path (which also reports encoding errors). */
  private inlineArgs(args: unknown[], name: string): TaskArg[] | undefined {
    try {
      return this.core.inlineArgs(args, name);
    } catch {
      return undefined;
    }
  }
}

/** The ids of the refs among the arguments. */
function refIds(args: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const a of args) if (a instanceof ObjectRef) out.push(a.id);
  return out;
}
