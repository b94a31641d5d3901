/**
 * The caller side of actors (DESIGN §3, reliability §1): creating an actor through the head, and
 * sending calls to it in submission order. A caller on the actor's node talks to the actor's worker
 * over its own socket (one hop each way); a caller elsewhere goes through its raylet, which relays
 * over gRPC to the actor's raylet. The caller follows the actor through restarts with a long-poll on
 * the head: calls made while it restarts wait and go to the new instance; a call in flight when the
 * actor died is sent again while `maxTaskRetries` allows, else it fails with ActorUnavailableError
 * (it may come back) or ActorDiedError (it will not).
 */
import { randomBytes } from 'node:crypto';
import { GcsActorClient, connectFramed, type ActorInfoMsgOutput, type ActorSpecMsg, type FramedConnection } from '@rayts/common';
import { functionDescriptorBytes, type CoreWorker, type RemoteFunctionDescriptor } from './caller_deps.js';
import { ObjectRef } from '../object_ref.js';
import { newObjectId, newTaskId } from '../ids.js';
import { PendingCallsLimitExceededError } from '../errors.js';
import { makeActorHandle, type ActorHandleBase, type ActorHandleData } from './actor_handle.js';
import { argToMsg } from './actor_spec.js';
import type { ActorReady, CallerHello, Execute, TaskArg, TaskFailure, TaskOutcome, TaskResult, TaskSpec } from '../protocol/messages.js';

/** How long one GetActor long-poll may wait at the head. */
const WATCH_WAIT_MS = 30_000;
/** How long a failed call waits for the head to say why the actor went, before failing it anyway. */
const LOST_CALL_WAIT_MS = 3_000;

interface Call {
  spec: TaskSpec;
  seq: number;
  retriesLeft: number;
  /** Arguments still being resolved (refs awaited, large values stored). */
  ready: boolean;
}

interface ActorEntry {
  data: ActorHandleData;
  info?: ActorInfoMsgOutput;
  version: number;
  /** Calls not sent yet, in submission order. */
  outbox: Call[];
  inflight: Map<string, Call>;
  nextSeq: number;
  direct?: { workerId: string; conn?: FramedConnection<TaskResult, CallerHello | Execute>; connecting?: Promise<void> };
  /** The worker that died under us: its ALIVE record is stale until the head's version moves on. */
  lostWorker?: string;
  watching: boolean;
  /** Being registered by this process: the head does not know it yet. */
  registering?: boolean;
  /** Set once the actor cannot take calls any more (dead, or its registration failed). */
  final?: TaskFailure;
  /** This node's raylet said the actor is constructed here, before the head's record says ALIVE. */
  early?: ActorTarget;
  /** Created here with a name, which the head may refuse (taken). */
  named?: boolean;
  /** Created here: settles once the head has it (or refused it). */
  registration?: Promise<void>;
  /** Wakes a registration waiting for the local raylet's word that the actor is constructed. */
  onStartedHere?: () => void;
}

/** Where calls go: the actor's node and worker, and its socket for callers on that node. */
type ActorTarget = Pick<ActorInfoMsgOutput, 'nodeId' | 'workerId' | 'socketPath'>;

/** How long a connection to an actor's worker that is still starting is retried (it listens within a few ms). */
const EARLY_CONNECT_MS = 200;

/** Connects to a socket that may not listen yet: refused or missing is tried again every millisecond or two. */
async function connectSoon(path: string): Promise<FramedConnection<TaskResult, CallerHello | Execute>> {
  const deadline = performance.now() + EARLY_CONNECT_MS;
  for (;;) {
    try {
      return await connectFramed<TaskResult, CallerHello | Execute>(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || performance.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/**
 * How long the registration of an unnamed actor started on this node waits for its constructor
 * before it goes to the head anyway (a slow constructor must not delay the head's record further).
 */
const LOCAL_START_REGISTER_WAIT_MS = 50;

export class ActorSubmitter {
  private readonly entries = new Map<string, ActorEntry>();
  /** Registrations in flight, for settle(). */
  private readonly registrations = new Set<Promise<void>>();
  /** Calls in flight through the raylet, by task id: their results arrive on the raylet connection. */
  private readonly relayed = new Map<string, ActorEntry>();
  readonly gcs: GcsActorClient;

  constructor(private readonly core: CoreWorker) {
    this.gcs = new GcsActorClient(core.options.gcsAddress, { token: core.options.token, timeoutMs: core.options.gcsTimeoutMs ?? 10_000 });
    core.onActorOutcome = (o) => this.onRelayedOutcome(o);
    core.onActorReady = (m) => this.onLocalReady(m);
    core.closers.push(() => this.close());
  }

  private entry(data: ActorHandleData): ActorEntry {
    let e = this.entries.get(data.actorId);
    if (!e) this.entries.set(data.actorId, (e = { data, version: 0, outbox: [], inflight: new Map(), nextSeq: 0, watching: false }));
    return e;
  }

  /** Registers the actor with the head (asynchronously) and returns its handle at once. */
  create(desc: RemoteFunctionDescriptor, data: Omit<ActorHandleData, 'actorId'>, args: unknown[], spec: Omit<ActorSpecMsg, 'actorId' | 'args'>): ActorHandleBase {
    const actorId = randomBytes(16).toString('hex');
    const full = { ...data, actorId };
    const e = this.entry(full);
    e.registering = true;
    e.named = !!spec.name;
    const registration = (async () => {
      let reservedNodeId = '';
      // The class goes to the head's function table (restarts load it from there) while the local
      // raylet, which is handed the class itself, starts the actor.
      const exported = this.core.exportFunction(desc);
      exported.catch(() => undefined); // awaited below
      try {
        const resolved = await Promise.all(args.map((a, i) => this.core.resolveArg(a, i, `the constructor of ${data.className}`)));
        const full: ActorSpecMsg = { ...spec, actorId, args: resolved.map(argToMsg) };
        reservedNodeId = await this.reserveHere(desc, full);
        // An unnamed actor started here takes its first calls before the head hears of it: on two
        // vCPUs the registration's gRPC work would otherwise compete with the construction.
        if (reservedNodeId && !e.named) await this.startedHere(e, LOCAL_START_REGISTER_WAIT_MS);
        await exported;
        const info = await this.gcs.registerActor({ ...full, reservedNodeId });
        e.registering = false;
        this.apply(e, info);
      } catch (err) {
        e.registering = false;
        if (reservedNodeId) void this.core.request({ type: 'releaseActor', actorId }).catch(() => undefined);
        const error = err as Error;
        this.finish(e, { type: 'ACTOR_DIED', message: `the actor could not be created: ${error.message}`, actorId, deathCause: 'CREATION_FAILED', errorName: error.name });
      }
    })();
    this.registrations.add(registration);
    void registration.finally(() => this.registrations.delete(registration));
    e.registration = registration;
    return makeActorHandle(full);
  }

  /** Resolves once every actor created here is registered with the head (or failed to be): before a driver's job ends. */
  async settle(): Promise<void> {
    await Promise.all([...this.registrations]);
  }

  /** Resolves when this node's raylet says the actor is constructed, or after `waitMs`. */
  private startedHere(e: ActorEntry, waitMs: number): Promise<void> {
    if (e.early) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, waitMs);
      function done() { clearTimeout(timer); e.onStartedHere = undefined; resolve(); }
      e.onStartedHere = done;
    });
  }

  /**
   * Asks this node's raylet to start the actor at once, so its construction overlaps the head's
   * registration (the head then places it there): the node id when it did, '' when the actor must
   * be placed by the head (not the DEFAULT strategy, in a placement group, or no room here now).
   */
  private async reserveHere(desc: RemoteFunctionDescriptor, spec: ActorSpecMsg): Promise<string> {
    const inGroup = Object.keys(spec.placementResources ?? {}).some((k) => k.includes('_group_'));
    if ((spec.strategy?.kind ?? 'DEFAULT') !== 'DEFAULT' || inGroup) return '';
    try {
      const reply = await this.core.request({ type: 'reserveActor', spec, classDescriptor: functionDescriptorBytes(desc) });
      if (!reply.ok) return '';
      const started = reply.info as { workerId: string; socketPath: string };
      const e = this.entries.get(spec.actorId!);
      // Connect while it constructs (its worker listens from the start); calls go once it is ready.
      if (e && !e.direct && !e.final) this.connect(e, { nodeId: this.core.address.nodeId, ...started }, true);
      return this.core.address.nodeId;
    } catch {
      return ''; // the head places it
    }
  }

  /** A handle for an actor the head already knows (getActor). */
  handleFor(info: ActorInfoMsgOutput): ActorHandleBase {
    const data: ActorHandleData = {
      actorId: info.actorId, className: info.className, methodNames: info.methodNames, maxTaskRetries: info.maxTaskRetries, maxPendingCalls: info.maxPendingCalls,
    };
    const e = this.entry(data);
    if (info.version > e.version) this.apply(e, info);
    return makeActorHandle(data);
  }

  submit(data: ActorHandleData, method: string, args: unknown[]): ObjectRef {
    const e = this.entry(data);
    const pending = e.outbox.length + e.inflight.size;
    if (data.maxPendingCalls >= 0 && pending >= data.maxPendingCalls) {
      throw new PendingCallsLimitExceededError(`${data.className}.${method}: the handle has ${pending} calls pending (maxPendingCalls ${data.maxPendingCalls})`,
        'wait for some results before calling again, or raise maxPendingCalls');
    }
    const returnId = newObjectId();
    this.core.store.addPending(returnId);
    const ref = new ObjectRef(returnId, this.core.address);
    const spec: TaskSpec = {
      taskId: newTaskId(), jobId: this.core.jobId, attempt: 0, name: `${data.className}.${method}`, fnHash: '', args: [], returnId,
      resources: {}, strategy: { kind: 'DEFAULT' }, owner: this.core.address, depth: 0,
      driverNodeId: this.core.driverNodeId || this.core.address.nodeId, actorId: data.actorId, method,
    };
    if (e.final) {
      this.core.store.resolve(returnId, { status: 'failed', failure: e.final, taskName: spec.name });
      return ref;
    }
    const call: Call = { spec, seq: e.nextSeq++, retriesLeft: data.maxTaskRetries < 0 ? Infinity : data.maxTaskRetries, ready: false };
    e.outbox.push(call);
    const inline = this.inlineArgs(args, spec.name);
    if (inline) {
      spec.args = inline;
      call.ready = true;
      this.flush(e);
    } else {
      void Promise.all(args.map((a, i) => this.core.resolveArg(a, i, spec.name))).then(
        (resolved) => { spec.args = resolved; call.ready = true; this.flush(e); },
        (err: Error & { failure?: TaskFailure }) => {
          e.outbox.splice(e.outbox.indexOf(call), 1);
          const failure = err.failure ?? { type: 'SERIALIZATION', message: err.message, errorName: err.name, stack: err.stack };
          this.core.store.resolve(returnId, { status: 'failed', failure, taskName: spec.name });
          this.flush(e);
        },
      );
    }
    return ref;
  }

  /** The arguments encoded inline now, or undefined for the asynchronous path (which also reports encoding errors). */
  private inlineArgs(args: unknown[], name: string): TaskArg[] | undefined {
    try {
      return this.core.inlineArgs(args, name);
    } catch {
      return undefined;
    }
  }

  async kill(data: ActorHandleData, noRestart: boolean): Promise<void> {
    await this.entries.get(data.actorId)?.registration; // the head must know it first
    await this.gcs.killActor(data.actorId, noRestart);
    if (!noRestart) return;
    const e = this.entry(data);
    if (!e.final) this.finish(e, { type: 'ACTOR_DIED', message: `the actor ${data.className} (${data.actorId}) is dead (KILLED): it was killed by ray.kill()`, actorId: data.actorId, deathCause: 'KILLED' });
  }

  /** Where calls go now: the head's ALIVE record, else what this node's raylet said; undefined while neither. */
  private target(e: ActorEntry): ActorTarget | undefined {
    const info = e.info;
    if (info?.state === 'ALIVE' && info.workerId !== e.lostWorker) return info;
    // A named actor only once the head accepted it: its name may be taken. Nothing else about an
    // actor this process made can be refused, so an unnamed one is called at once.
    if (e.early && !(e.registering && e.named) && e.early.workerId !== e.lostWorker) return e.early;
    return undefined;
  }

  /** The raylet of this node constructed an actor this process created: call it without waiting for the head. */
  private onLocalReady(m: ActorReady): void {
    const e = this.entries.get(m.actorId);
    if (!e || e.final || m.workerId === e.lostWorker || this.target(e)?.workerId === m.workerId) return;
    e.early = { nodeId: this.core.address.nodeId, workerId: m.workerId, socketPath: m.socketPath };
    e.onStartedHere?.();
    this.flush(e);
  }

  /** Sends every ready call at the head of the outbox, in order, if the actor can take them. */
  private flush(e: ActorEntry): void {
    if (e.final) return this.failOutbox(e);
    const target = this.target(e);
    if (!target) {
      if (e.outbox.length > 0 && !e.registering) this.watch(e);
      return;
    }
    const local = target.nodeId === this.core.address.nodeId;
    if (local && (!e.direct || e.direct.workerId !== target.workerId)) {
      this.connect(e, target);
      return;
    }
    if (local && !e.direct?.conn) return; // connecting: flushed when connected
    while (e.outbox.length > 0 && e.outbox[0]!.ready) {
      const call = e.outbox.shift()!;
      e.inflight.set(call.spec.taskId, call);
      if (local) e.direct!.conn!.send({ type: 'execute', task: call.spec, jobDir: '' });
      else {
        this.relayed.set(call.spec.taskId, e);
        this.core.send({ type: 'actorCall', nodeId: target.nodeId, workerId: target.workerId, task: call.spec });
      }
    }
  }

  /**
   * Opens the direct connection to a local actor's worker. `early`: the worker was only just given the
   * actor and may not listen yet, so a refused connect is tried again for a short while, and a
   * connect that never succeeds is forgotten (the actor is not lost: the normal path connects later).
   */
  private connect(e: ActorEntry, target: ActorTarget, early = false): void {
    const direct: NonNullable<ActorEntry['direct']> = { workerId: target.workerId };
    e.direct = direct;
    const opening = early ? connectSoon(target.socketPath) : connectFramed<TaskResult, CallerHello | Execute>(target.socketPath);
    direct.connecting = opening.then((conn) => {
      if (e.direct !== direct) { conn.close(); return; }
      conn.send({ type: 'hello', role: 'caller', token: this.core.options.token });
      conn.on('message', (m) => { if (m.type === 'taskResult') this.onOutcome(e, m.outcome); });
      conn.on('close', () => this.onConnectionLost(e, direct.workerId, 'the connection to the actor closed'));
      direct.conn = conn;
      this.flush(e);
    }, (err: Error) => {
      if (e.direct !== direct) return;
      if (early) {
        e.direct = undefined;
        this.flush(e);
      } else {
        this.onConnectionLost(e, direct.workerId, `could not connect to the actor: ${err.message}`);
      }
    });
  }

  private onConnectionLost(e: ActorEntry, workerId: string, reason: string): void {
    if (e.direct?.workerId === workerId) e.direct = undefined;
    e.lostWorker = workerId;
    for (const call of [...e.inflight.values()]) this.onCallLost(e, call, reason);
    this.flush(e);
  }

  private onRelayedOutcome(outcome: TaskOutcome): boolean {
    const e = this.relayed.get(outcome.taskId);
    if (!e) return false;
    this.relayed.delete(outcome.taskId);
    this.onOutcome(e, outcome);
    return true;
  }

  private onOutcome(e: ActorEntry, outcome: TaskOutcome): void {
    const call = e.inflight.get(outcome.taskId);
    if (!call || outcome.attempt !== call.spec.attempt) return;
    if (outcome.failure?.type === 'WORKER_DIED') {
      if (e.info) e.lostWorker = e.info.workerId;
      this.onCallLost(e, call, outcome.failure.message);
      this.flush(e);
      return;
    }
    e.inflight.delete(call.spec.taskId);
    if (outcome.failure) this.core.store.resolve(call.spec.returnId, { status: 'failed', failure: outcome.failure, taskName: call.spec.name });
    else this.core.store.resolve(call.spec.returnId, { status: 'ready', value: outcome.value! });
  }

  /** The actor died while the call ran: send it again within maxTaskRetries, else fail it. */
  private onCallLost(e: ActorEntry, call: Call, reason: string): void {
    e.inflight.delete(call.spec.taskId);
    if (call.retriesLeft > 0 && !e.final) {
      call.retriesLeft -= 1;
      call.spec = { ...call.spec, attempt: call.spec.attempt + 1 };
      const at = e.outbox.findIndex((c) => c.seq > call.seq);
      e.outbox.splice(at < 0 ? e.outbox.length : at, 0, call);
      return;
    }
    if (e.final) return this.failCall(call, e.final);
    // Ask the head what became of the actor, so the error names the real cause (killed, node died, …).
    void this.gcs.getActor(e.data.actorId, e.version, LOST_CALL_WAIT_MS).then((info) => this.apply(e, info), () => undefined).finally(() => {
      if (e.final) return this.failCall(call, e.final);
      const info = e.info;
      const mayRestart = !!info && (info.maxRestarts < 0 || info.numRestarts < info.maxRestarts);
      this.failCall(call, mayRestart
        ? { type: 'ACTOR_UNAVAILABLE', message: `the actor ${e.data.className} (${e.data.actorId}) died while running this call and is restarting (${reason}); the call was not retried (maxTaskRetries ${e.data.maxTaskRetries})`, actorId: e.data.actorId }
        : { type: 'ACTOR_DIED', message: `the actor ${e.data.className} (${e.data.actorId}) died while running this call: ${reason}`, actorId: e.data.actorId, deathCause: 'WORKER_DIED' });
    });
  }

  private failCall(call: Call, failure: TaskFailure): void {
    this.core.store.resolve(call.spec.returnId, { status: 'failed', failure, taskName: call.spec.name });
  }

  /** Follows the actor's record at the head while calls wait for it to be (again) alive. */
  private watch(e: ActorEntry): void {
    if (e.watching || e.final) return;
    e.watching = true;
    void (async () => {
      try {
        while (!e.final && e.outbox.length > 0 && !this.target(e)) {
          try {
            const info = await this.gcs.getActor(e.data.actorId, e.version, WATCH_WAIT_MS);
            if (info.version > e.version) this.apply(e, info, false);
          } catch (err) {
            if ((err as Error).name === 'NotFoundError') {
              this.finish(e, { type: 'ACTOR_DIED', message: `the head knows no actor ${e.data.actorId}`, actorId: e.data.actorId, deathCause: 'UNKNOWN' });
            } else {
              // The head is restarting: ask again shortly (its restart keeps the actor table).
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        }
      } finally {
        e.watching = false;
      }
      this.flush(e);
    })();
  }

  private apply(e: ActorEntry, info: ActorInfoMsgOutput, flush = true): void {
    if (info.version <= e.version) return;
    e.info = info;
    e.version = info.version;
    // The head's record now says where the actor is (or that it is not alive): it wins over the raylet's early word.
    if (info.state !== 'PENDING_CREATION') e.early = undefined;
    if (info.state === 'DEAD') {
      this.finish(e, {
        type: 'ACTOR_DIED', actorId: info.actorId, deathCause: info.deathCause, cause: info.creationFailure?.cause?.length ? info.creationFailure.cause : undefined,
        message: `the actor ${info.className} (${info.actorId}) is dead (${info.deathCause}): ${info.deathMessage}`,
      });
      return;
    }
    if (flush) this.flush(e);
  }

  /** The actor will take no more calls: everything waiting fails with `failure`. */
  private finish(e: ActorEntry, failure: TaskFailure): void {
    e.final = failure;
    this.failOutbox(e);
    for (const call of [...e.inflight.values()]) this.onCallLost(e, call, failure.message);
  }

  private failOutbox(e: ActorEntry): void {
    for (const call of e.outbox.splice(0)) this.failCall(call, e.final!);
  }

  close(): void {
    for (const e of this.entries.values()) e.direct?.conn?.close();
    this.gcs.close();
  }
}
