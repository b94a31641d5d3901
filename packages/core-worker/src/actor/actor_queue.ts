/**
 * The calls of one caller process to one actor, and what that caller knows of the actor. Calls leave
 * in submission order (a call whose arguments are still being resolved holds back those after it),
 * over the actor worker's socket when it runs on this node, else through the raylet. The queue
 * follows the actor through restarts: calls made while it restarts wait and go to the new instance;
 * a call in flight when the actor died is sent again while `maxTaskRetries` allows, else it fails
 * with ActorUnavailableError (it may come back) or ActorDiedError (it will not).
 */
import type { ActorInfoMsgOutput } from '@rayts/common';
import type { ActorCallerConfig, ActorDirectory, ActorTarget } from './actor_core.js';
import type { ActorTransport } from './actor_transport.js';
import { ActorWatch } from './actor_watch.js';
import { WorkerLink } from './worker_link.js';
import type { MemoryStore } from '../memory_store.js';
import { ownerFailure } from '../event_report.js';
import type { TaskInfo } from '@rayts/common';
import type { OwnerTaskEvents } from '../task_event_buffer.js';
import type { TaskArg, TaskFailure, TaskOutcome, TaskSpec } from '../protocol/messages.js';

/**
 * What the caller knows of the actor, and so whether calls may leave.
 *
 * - `registering`: this process created the actor, the head has not answered its registration, and
 *   no instance this node's raylet constructed can be called (none yet, or it died). Calls wait; the
 *   head is not asked (it may not know the actor yet): the registration's answer moves the state on.
 * - `starting-here`: this node's raylet constructed the actor for this process at `at`, and the
 *   head's record does not place it yet (`headKnows`: the head has it, PENDING_CREATION; otherwise
 *   its registration is still in flight). Calls go to `at`. Only an unnamed actor enters this state
 *   before the head answers: a named one's name may be refused, so its creator holds the raylet's
 *   word until then.
 * - `alive`: the head's record says ALIVE at `at`. Calls go there.
 * - `waiting`: the head knows the actor, but no instance can be called: it is being created
 *   elsewhere, restarting, or the instance called last died and the head has not named the next.
 *   Calls wait, and the watch follows the head's record while any wait.
 * - `dead`: the actor takes no more calls (the head says DEAD, it was killed for good, or its
 *   registration failed). Every call waiting or in flight, and every later one, fails with `failure`.
 *
 * `lost` (registering, waiting): the worker that died under this caller. The head's records naming
 * it are stale until its version moves on, and this node's raylet may still report it constructed.
 *
 * Transitions: registering → starting-here (the raylet's word, unnamed) | alive | starting-here |
 * waiting (the head's answer) | dead; starting-here → alive | waiting (the head's record) |
 * registering | waiting (its worker lost) | dead; alive → waiting (lost, or the head's record) |
 * dead; waiting → alive (the head's record) | starting-here (the raylet's word) | dead. `dead` is final.
 * A call in flight whose worker is lost goes back to the outbox, in submission order, while it has
 * retries left; else it fails (see `callLost`).
 */
export type ActorState =
  | { kind: 'registering'; lost?: string }
  | { kind: 'starting-here'; at: ActorTarget; headKnows: boolean }
  | { kind: 'alive'; at: ActorTarget }
  | { kind: 'waiting'; lost?: string }
  | { kind: 'dead'; failure: TaskFailure };

interface Call {
  spec: TaskSpec;
  /** Submission order. */
  seq: number;
  retriesLeft: number;
  /** Arguments resolved (refs awaited, large values stored): the call may leave. */
  ready: boolean;
  /** The worker it went to, while in flight. */
  sentTo: string;
  /** What the call is, for the task events of each attempt. */
  info: TaskInfo;
  /** Where its current attempt's task events are (a hint for the buffer). */
  events: number;
}

/** The actor as its queue needs it (an ActorHandleData is one). */
export interface QueuedActor {
  readonly actorId: string;
  readonly className: string;
  /** How often a call whose worker died is sent again; -1 = no limit. */
  readonly maxTaskRetries: number;
}

export interface ActorQueueDeps {
  readonly transport: ActorTransport;
  readonly head: Pick<ActorDirectory, 'getActor'>;
  /** Where call results are kept. */
  readonly results: Pick<MemoryStore, 'resolve'>;
  readonly config: Pick<ActorCallerConfig, 'actorWatchWaitMs' | 'actorWatchRetryMs' | 'actorLostCallWaitMs'>;
  /** Task events of the calls' attempts (the caller owns them). */
  readonly events: OwnerTaskEvents;
}

export class ActorQueue {
  private current: ActorState;
  /** The head's newest record of the actor (none yet while registering). */
  private record?: ActorInfoMsgOutput;
  private version = 0;
  /** Calls not sent yet, in submission order. */
  private readonly outbox: Call[] = [];
  private readonly inflight = new Map<string, Call>();
  private nextSeq = 0;
  private readonly link: WorkerLink;
  private readonly watch: ActorWatch;

  constructor(readonly data: QueuedActor, initial: 'registering' | 'waiting', private readonly deps: ActorQueueDeps) {
    this.current = { kind: initial };
    this.link = new WorkerLink(deps.transport, {
      changed: () => this.flush(),
      result: (outcome) => this.onOutcome(outcome),
      lost: (workerId, reason) => this.lose(workerId, [...this.inflight.values()].filter((c) => c.sentTo === workerId), reason),
    });
    this.watch = new ActorWatch({
      actorId: data.actorId,
      version: () => this.version,
      waitsForHead: () => this.current.kind !== 'dead' && this.outbox.length > 0 && !this.target,
      onRecord: (info) => this.applyRecord(info),
      onUnknown: (message) => this.die({ type: 'ACTOR_DIED', message, actorId: data.actorId, deathCause: 'UNKNOWN' }),
      onEnded: () => this.flush(),
    }, deps.head, deps.config);
  }

  get actorId(): string {
    return this.data.actorId;
  }

  get state(): ActorState {
    return this.current;
  }

  /** Calls not finished yet (waiting or in flight), for maxPendingCalls. */
  get pending(): number {
    return this.outbox.length + this.inflight.size;
  }

  /** Queues a call (its submission is reported already, `events` is that report's hint); `args` still resolving hold it (and the calls after it) back. */
  push(spec: TaskSpec, args: TaskArg[] | Promise<TaskArg[]>, info: TaskInfo, events = -1): void {
    if (this.current.kind === 'dead') return this.fail(spec, this.current.failure, undefined, events);
    const call: Call = { spec, seq: this.nextSeq++, retriesLeft: this.data.maxTaskRetries < 0 ? Infinity : this.data.maxTaskRetries, ready: false, sentTo: '', info, events };
    this.outbox.push(call);
    if (Array.isArray(args)) {
      spec.args = args;
      call.ready = true;
      this.flush();
      return;
    }
    args.then((resolved) => {
      spec.args = resolved;
      call.ready = true;
      this.flush();
    }, (err: Error & { failure?: TaskFailure }) => {
      const at = this.outbox.indexOf(call);
      if (at < 0) return; // failed already: the actor died meanwhile
      this.outbox.splice(at, 1);
      this.fail(spec, err.failure ?? { type: 'SERIALIZATION', message: err.message, errorName: err.name, stack: err.stack }, 'DEPENDENCY_RESOLUTION_FAILED', call.events);
      this.flush();
    });
  }

  /** The head accepted the registration; `here`: a named actor's instance this node's raylet held back until now. */
  registered(info: ActorInfoMsgOutput, here?: ActorTarget): void {
    this.applyRecord(info, here);
    this.flush();
  }

  /** A record of the actor from the head (a lookup by name, an answer to a question). */
  headRecord(info: ActorInfoMsgOutput): void {
    if (info.version <= this.version) return;
    this.applyRecord(info);
    this.flush();
  }

  /** This node's raylet constructed the actor for this process: call it without waiting for the head. */
  startedHere(at: ActorTarget): void {
    const s = this.current;
    if (s.kind === 'dead' || s.kind === 'alive') return; // the head's record wins
    if (s.kind === 'starting-here') {
      if (s.at.workerId === at.workerId) return;
      this.current = { ...s, at };
    } else {
      if (at.workerId === s.lost) return;
      this.current = { kind: 'starting-here', at, headKnows: s.kind === 'waiting' };
    }
    this.flush();
  }

  /** This node's raylet is constructing the actor in that worker: connect now, so calls leave once it is ready. */
  connectEarly(at: ActorTarget): void {
    if (this.current.kind !== 'dead') this.link.prepare(at);
  }

  /** The actor takes no more calls: everything waiting or in flight fails with `failure`, and so will later calls. */
  die(failure: TaskFailure): void {
    if (this.current.kind === 'dead') return;
    this.current = { kind: 'dead', failure };
    for (const call of this.outbox.splice(0)) this.fail(call.spec, failure, undefined, call.events);
    for (const call of [...this.inflight.values()]) this.callLost(call, failure.message);
  }

  /** The outcome of a call (over the worker's socket, or relayed through the raylet). */
  onOutcome(outcome: TaskOutcome): void {
    const call = this.inflight.get(outcome.taskId);
    if (!call || outcome.attempt !== call.spec.attempt) return; // an earlier attempt's
    if (outcome.failure?.type === 'WORKER_DIED') return this.lose(call.sentTo, [call], outcome.failure.message, outcome.failure.notDelivered);
    this.inflight.delete(call.spec.taskId);
    this.deps.events.outcome(call.spec.jobId, outcome, call.events);
    this.deps.results.resolve(call.spec.returnId, outcome.failure
      ? { status: 'failed', failure: outcome.failure, taskName: call.spec.name }
      : { status: 'ready', value: outcome.value! });
  }

  close(): void {
    this.watch.stop();
    this.link.close();
  }

  /** Where calls go now, if anywhere. */
  private get target(): ActorTarget | undefined {
    const s = this.current;
    return s.kind === 'alive' || s.kind === 'starting-here' ? s.at : undefined;
  }

  /** Sends every ready call at the head of the outbox, in order, if the actor can take them. */
  private flush(): void {
    const s = this.current;
    if (s.kind === 'dead') return;
    const target = this.target;
    if (!target) {
      if (s.kind === 'waiting' && this.outbox.length > 0) this.watch.start();
      return;
    }
    let send: (spec: TaskSpec) => void;
    if (target.nodeId === this.deps.transport.nodeId) {
      // Connected even with nothing to send: the first call will not wait for the connection.
      const channel = this.link.channelTo(target);
      if (!channel) return; // flushed again when connected
      send = (task) => channel.send({ type: 'execute', task, jobDir: '' });
    } else {
      send = (task) => this.deps.transport.relay(target, task);
    }
    while (this.outbox.length > 0 && this.outbox[0]!.ready) {
      const call = this.outbox.shift()!;
      call.sentTo = target.workerId;
      this.inflight.set(call.spec.taskId, call);
      send(call.spec);
    }
  }

  /** The head's record (newer than any seen), with the raylet's word `here` for a named actor just accepted. */
  private applyRecord(info: ActorInfoMsgOutput, here?: ActorTarget): void {
    if (info.version <= this.version) return;
    this.record = info;
    this.version = info.version;
    const s = this.current;
    if (s.kind === 'dead') return;
    if (info.state === 'DEAD') {
      return this.die({
        type: 'ACTOR_DIED', actorId: info.actorId, deathCause: info.deathCause, cause: info.creationFailure?.cause?.length ? info.creationFailure.cause : undefined,
        message: `the actor ${info.className} (${info.actorId}) is dead (${info.deathCause}): ${info.deathMessage}`,
      });
    }
    const lost = s.kind === 'registering' || s.kind === 'waiting' ? s.lost : undefined;
    const startedAt = s.kind === 'starting-here' ? s.at : here;
    if (info.state === 'ALIVE' && info.workerId !== lost) {
      this.current = { kind: 'alive', at: { nodeId: info.nodeId, workerId: info.workerId, socketPath: info.socketPath } };
    } else if (info.state === 'PENDING_CREATION' && startedAt && startedAt.workerId !== lost) {
      // The head has it but has not recorded the construction yet: the raylet's word still holds.
      this.current = { kind: 'starting-here', at: startedAt, headKnows: true };
    } else {
      this.current = { kind: 'waiting', lost };
    }
  }

  /** The worker died under these calls (its connection closed, or the raylet said so). */
  private lose(workerId: string, calls: Call[], reason: string, notDelivered = false): void {
    const s = this.current;
    if ((s.kind === 'alive' || s.kind === 'starting-here') && s.at.workerId === workerId) {
      this.current = s.kind === 'starting-here' && !s.headKnows ? { kind: 'registering', lost: workerId } : { kind: 'waiting', lost: workerId };
    } else if (s.kind === 'registering' || s.kind === 'waiting') {
      this.current = { ...s, lost: workerId };
    }
    for (const call of calls) this.callLost(call, reason, !notDelivered);
    this.flush();
  }

  /**
   * The actor died while the call ran: send it again within maxTaskRetries, else fail it. A call that
   * never reached the actor (`spendRetry` false: its node was gone before it was sent) goes to the
   * next instance without spending a retry.
   */
  private callLost(call: Call, reason: string, spendRetry = true): void {
    this.inflight.delete(call.spec.taskId);
    const s = this.current;
    if (s.kind === 'dead') return this.fail(call.spec, s.failure, undefined, call.events);
    if (!spendRetry || call.retriesLeft > 0) {
      if (spendRetry) call.retriesLeft -= 1;
      const { events } = this.deps;
      events.failed(call.spec.taskId, call.spec.attempt, call.spec.jobId, { errorType: 'WORKER_DIED', message: reason, workerId: call.sentTo }, call.events);
      call.spec = { ...call.spec, attempt: call.spec.attempt + 1 };
      call.events = events.submitted(call.spec.taskId, call.spec.attempt, call.spec.jobId, call.info);
      const at = this.outbox.findIndex((c) => c.seq > call.seq);
      this.outbox.splice(at < 0 ? this.outbox.length : at, 0, call);
      return;
    }
    // Ask the head what became of the actor, so the error names the real cause (killed, node died, …).
    const { actorId, className, maxTaskRetries } = this.data;
    void this.deps.head.getActor(actorId, this.version, this.deps.config.actorLostCallWaitMs)
      .then((info) => this.headRecord(info), () => undefined)
      .finally(() => {
        const now = this.current;
        if (now.kind === 'dead') return this.fail(call.spec, now.failure, undefined, call.events);
        const r = this.record;
        // Restarting, or restarted already (a new worker; the head counted that restart): it is back,
        // whatever restarts are left. Else (the head has not noticed yet) it comes back if one is left.
        const back = !!r && r.state !== 'DEAD' && (r.state !== 'ALIVE' || r.workerId !== call.sentTo);
        const mayRestart = back || (!!r && (r.maxRestarts < 0 || r.numRestarts < r.maxRestarts));
        this.fail(call.spec, mayRestart
          ? { type: 'ACTOR_UNAVAILABLE', message: `the actor ${className} (${actorId}) died while running this call and ${back && r.state === 'ALIVE' ? 'was restarted' : 'is restarting'} (${reason}); the call was not retried (maxTaskRetries ${maxTaskRetries})`, actorId }
          : { type: 'ACTOR_DIED', message: `the actor ${className} (${actorId}) died while running this call: ${reason}`, actorId, deathCause: 'WORKER_DIED' },
        undefined, call.events);
      });
  }

  /** The call fails without an outcome of its own (the actor died, its arguments failed, its worker was lost). */
  private fail(spec: TaskSpec, failure: TaskFailure, errorType?: string, events = -1): void {
    const reported = ownerFailure(failure);
    this.deps.events.failed(spec.taskId, spec.attempt, spec.jobId, errorType ? { ...reported, errorType } : reported, events);
    this.deps.results.resolve(spec.returnId, { status: 'failed', failure, taskName: spec.name });
  }
}
