/**
 * Where a core worker's parts receive what the raylet pushes: task results (an actor call's or a
 * task's), tasks and actors to run (workers only), owner lookups and `rayts memory` requests, task
 * output (drivers), and requests to collect garbage.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ActorSubmitter } from './actor/actor_submitter.js';
import type { ActorHost } from './actor/actor_host.js';
import type { ObjectGetter } from './object_getter.js';
import type { RayletInbox, RayletTransport } from './raylet_connection.js';
import type { ReferenceTable } from './reference_table.js';
import type { TaskExecutor } from './task_executor.js';
import type { TaskManager } from './task_manager.js';
import type { DirectTaskSubmitter } from './direct/direct_submitter.js';
import type { LeaseServer } from './direct/lease_server.js';
import type {
  ActorReady, BindJob, CreateActor, Execute, Leased, LeaseGranted, LeaseLost, LeaseRejected, LogLines, OwnerLookup, RefsRequest, TaskOutcome,
} from './protocol/messages.js';

/** A worker's executing side: the job it is bound to, normal tasks, and the actor it may become. */
export interface WorkerSide {
  bindJob(message: BindJob): void;
  executor: Pick<TaskExecutor, 'execute'>;
  host: Pick<ActorHost, 'create' | 'call'>;
  /** Where owners this worker is leased to push their tasks. */
  leases: Pick<LeaseServer, 'leased'>;
}

export interface CoreWorkerInboxDeps {
  transport: Pick<RayletTransport, 'send'>;
  tasks: Pick<TaskManager, 'handleOutcome' | 'attemptOf'>;
  /** The leases of this owner (absent when every task goes through the raylet: a remote client, or direct submission turned off). */
  direct?: Pick<DirectTaskSubmitter, 'leaseGranted' | 'leaseRejected' | 'leaseLost'>;
  actors: Pick<ActorSubmitter, 'handleOutcome' | 'handleActorReady'>;
  objects: Pick<ObjectGetter, 'ownedState'>;
  references: Pick<ReferenceTable, 'refsInfo'>;
  /** Absent in a driver. */
  worker?: WorkerSide;
  /** The node is going away. */
  onDisconnect?: (err?: Error) => void;
}

export class CoreWorkerInbox implements RayletInbox {
  constructor(private readonly deps: CoreWorkerInboxDeps) {}

  taskResult(outcome: TaskOutcome): void {
    if (!this.deps.actors.handleOutcome(outcome)) this.deps.tasks.handleOutcome(outcome);
  }

  /** Applied at once, in order: the raylet sends it before the job's first task or actor here. */
  bindJob(message: BindJob): void {
    this.deps.worker?.bindJob(message);
  }

  execute(message: Execute): void {
    const worker = this.deps.worker;
    if (!worker) return;
    // A call relayed by the raylet (its caller is on another node): answered over the same link.
    if (message.task.actorId) worker.host.call(message.task, (outcome) => this.deps.transport.send({ type: 'taskDone', outcome }));
    else worker.executor.execute(message);
  }

  leaseGranted(message: LeaseGranted): void {
    this.deps.direct?.leaseGranted(message);
  }

  leaseRejected(message: LeaseRejected): void {
    this.deps.direct?.leaseRejected(message);
  }

  leaseLost(message: LeaseLost): void {
    this.deps.direct?.leaseLost(message);
  }

  leased(message: Leased): void {
    this.deps.worker?.leases.leased(message);
  }

  createActor(message: CreateActor): void {
    void this.deps.worker?.host.create(message);
  }

  actorReady(message: ActorReady): void {
    this.deps.actors.handleActorReady(message);
  }

  /** Output of the job's tasks, shown here with Ray's `(name pid=…, ip=…)` prefix. */
  logs(m: LogLines): void {
    const out = m.stream === 'stdout' ? process.stdout : process.stderr;
    out.write(m.text.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '').map((l) => `${m.prefix} ${l}\n`).join(''));
  }

  collectGarbage(): void {
    collectGarbage();
  }

  ownerLookup(message: OwnerLookup): void {
    void this.deps.objects.ownedState(message.objectId).then((state) => {
      this.deps.transport.send({ type: 'ownerLookupReply', reqId: message.reqId, state });
    });
  }

  refsRequest(message: RefsRequest): void {
    const refs = this.deps.references.refsInfo((id) => this.deps.tasks.attemptOf(id));
    this.deps.transport.send({ type: 'refsReply', reqId: message.reqId, refs });
  }

  closed(err?: Error): void {
    this.deps.onDisconnect?.(err);
  }
}

/**
 * JS garbage collection is not prompt, and a value read from the store pins its object until it is
 * collected. When the store runs short, the raylet asks its clients to collect now. Node has no gc()
 * without --expose-gc, so the flag is set at run time and the function taken from a fresh context.
 * Two full collections: a value read in place and dropped is reliably freed only by the second
 * (measured reading spilled objects back one after another: after one collection the raylet had to
 * ask again, ~40 ms later, every time; a collection costs the driver ~15 ms). Checked again with a
 * WeakRef to each value read: right after one collection every value read since the previous request
 * was still alive, even those dropped long before, and all were dead after the next one. What holds
 * them through the first is not found (a heap snapshot collects before it looks, and shows nothing).
 */
let gcFunction: (() => void) | undefined;
export function collectGarbage(): void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
  gcFunction();
}
