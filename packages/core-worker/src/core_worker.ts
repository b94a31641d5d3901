/**
 * The runtime inside every driver and worker process (DESIGN §2): it submits tasks through the local
 * raylet, owns the objects it creates (their values or locations live in its memory store), and
 * fetches values for `get`/`wait`. Workers additionally receive tasks to execute (task_executor.ts).
 */
import { FUNCTION_NAMESPACE, GcsClient, ObjectStoreFullError, OutOfDiskError, RaytsError, connectFramed, loadConfig, type FramedConnection } from '@rayts/common';
import { CallSiteRecorder } from './call_site.js';
import { MemoryStore, type EntryState } from './memory_store.js';
import { ActorSubmitter } from './actor/actor_submitter.js';
import { placementGroupShape, type PlacementGroupTarget } from './placement_group_resources.js';
import { ObjectRef } from './object_ref.js';
import { newObjectId, newPutId, newTaskId } from './ids.js';
import { ACTOR_WIRE_PREFIX, decode, decodeInPlace, encodeForStore, sizeOf, toInline, writeTo } from './serialization.js';
import {
  GetTimeoutError, NodeDiedError, ObjectLostError, OwnerDiedError, RayTaskError, TaskCancelledError, TaskSerializationError, TaskUnschedulableError,
  WorkerCrashedError, ActorDiedError, ActorUnavailableError,
} from './errors.js';
import { Arena } from '@rayts/object-store';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type {
  Address, ClientHello, ClientMessage, ClientRequest, CreateActor, Execute, RayletMessage, Reply, ResourceShape, ReturnValue, SchedulingStrategy,
  LogLines, OwnedState, RefInfo, TaskArg, TaskFailure, TaskOutcome, TaskSpec, Welcome,
} from './protocol/messages.js';

import { functionDescriptorBytes, type RemoteFunctionDescriptor } from './function/descriptor.js';

export { functionDescriptorBytes, type RemoteFunctionDescriptor };

export interface TaskOptions {
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  resources?: Record<string, number>;
  maxRetries?: number;
  retryExceptions?: boolean;
  scheduling?: 'DEFAULT' | 'SPREAD' | { nodeId: string; soft: boolean };
  name?: string;
  /** Run in this placement group's reserved resources (placement_group_resources.ts). */
  placementGroup?: PlacementGroupTarget;
  /** Which bundle of `placementGroup`; -1 or absent = any. */
  bundleIndex?: number;
}

export interface CoreWorkerOptions {
  socketPath: string;
  token: string;
  gcsAddress: string;
  role: 'driver' | 'worker';
  jobId?: string;
  workerId?: string;
  jobDir?: string;
  gcsTimeoutMs?: number;
}

interface TaskRecord {
  spec: TaskSpec;
  retriesLeft: number;
  retryExceptions: boolean;
  /** Refs passed as arguments: USED_BY_PENDING_TASK while the task is in flight. */
  argRefs?: string[];
  /** `cancel` was called: whatever comes back, the result is TaskCancelledError. */
  cancelled?: boolean;
}

/** A request without its reqId (distributes over the union, unlike Omit). */
export type RequestBody = ClientRequest extends infer R ? (R extends { reqId: number } ? Omit<R, 'reqId'> : never) : never;

export { FUNCTION_NAMESPACE };
export const DEFAULT_MAX_RETRIES = 3;

/** The thrown value a failure carries, decoded (undefined when absent or undecodable). */
function causeOf(failure: TaskFailure): unknown {
  try {
    return failure.cause ? decode(failure.cause) : undefined;
  } catch {
    return undefined;
  }
}

/** Ray's names for what `get` throws, from a task's failure. */
export function failureToError(failure: TaskFailure, taskName: string): Error {
  switch (failure.type) {
    case 'APPLICATION':
      return new RayTaskError(taskName, failure.message, failure.stack ?? '', failure.errorName ?? 'Error', failure.nodeIp ?? '?', failure.pid ?? 0, causeOf(failure));
    case 'WORKER_DIED':
      return new WorkerCrashedError(`the worker running ${taskName} died: ${failure.message}`);
    case 'NODE_DIED':
      return new NodeDiedError(`the node running ${taskName} died: ${failure.message}`);
    case 'UNSCHEDULABLE':
      return new TaskUnschedulableError(`${taskName} cannot be scheduled: ${failure.message}`);
    case 'SERIALIZATION':
      return new TaskSerializationError(`${taskName}: ${failure.message}`);
    case 'CANCELLED':
      return new TaskCancelledError(`${taskName} was cancelled`);
    case 'ACTOR_DIED':
      return new ActorDiedError(`${taskName}: ${failure.message}`, failure.actorId ?? '', failure.deathCause ?? '', causeOf(failure));
    case 'ACTOR_UNAVAILABLE':
      return new ActorUnavailableError(`${taskName}: ${failure.message}`, failure.actorId ?? '');
  }
}

export class CoreWorker {
  readonly store = new MemoryStore();
  readonly gcs: GcsClient;
  address!: Address;
  nodeIp = '';
  welcome!: Welcome;
  private executeHandler?: (message: Execute) => void;
  /** Tasks that arrived before the executor was attached (they can share a packet with the welcome). */
  private earlyExecutes: Execute[] = [];
  /** Called when the raylet connection closes (the node is going away). */
  onDisconnect?: (err?: Error) => void;

  private conn!: FramedConnection<RayletMessage, ClientMessage>;
  private nextReqId = 1;
  private readonly replies = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly exports = new Map<string, Promise<void>>();
  private blockedDepth = 0;
  /** The node of the driver whose job this process works for (set per task in workers). */
  driverNodeId = '';
  /** Where task output arrives in a driver (default: this process's stdout/stderr). */
  onLogs: (m: LogLines) => void = (m) => {
    const out = m.stream === 'stdout' ? process.stdout : process.stderr;
    out.write(m.text.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '').map((l) => `${m.prefix} ${l}\n`).join(''));
  };
  private arena?: Arena;
  /** Values read from the store keep their object pinned until they are garbage collected. */
  private readonly pinRegistry = new FinalizationRegistry<string>((id) => {
    this.countDown(this.pinnedValues, id);
    // The raylet holds one pin per object for this process, released when its last value goes.
    if (!this.pinnedValues.has(id)) {
      this.pinnedAt.delete(id);
      this.send({ type: 'objRelease', reqId: 0, objectIds: [id] } as ClientMessage);
    }
  });
  /** Where objects this process holds a pin on live in the arena: a second get needs no raylet call. */
  private readonly pinnedAt = new Map<string, { offset: number; size: number }>();
  /** For `rayts memory`: values read from the store still alive, refs used by tasks in flight, refs inside objects. */
  private readonly pinnedValues = new Map<string, number>();
  private readonly pendingArgs = new Map<string, number>();
  private readonly captured = new Set<string>();
  /** Specs of finished tasks whose outputs are still referenced: a lost output is rebuilt by re-running. */
  private readonly lineage = new Map<string, TaskRecord>();
  /** Where each ref was made, for `rayts memory` (only with RAYTS_RECORD_REF_CREATION_SITES). */
  private readonly callSites = new CallSiteRecorder(loadConfig().recordRefCreationSites);

  private constructor(readonly options: CoreWorkerOptions) {
    this.gcs = new GcsClient(options.gcsAddress, { token: options.token, timeoutMs: options.gcsTimeoutMs ?? 10_000 });
  }

  static async connect(options: CoreWorkerOptions): Promise<CoreWorker> {
    const worker = new CoreWorker(options);
    await worker.open();
    return worker;
  }

  get jobId(): string {
    return this.options.jobId ?? '';
  }

  private async open(): Promise<void> {
    this.conn = await connectFramed<RayletMessage, ClientMessage>(this.options.socketPath);
    const hello: ClientHello = this.options.role === 'driver'
      ? { type: 'hello', role: 'driver', token: this.options.token, jobId: this.jobId, pid: process.pid, jobDir: this.options.jobDir ?? process.cwd() }
      : { type: 'hello', role: 'worker', token: this.options.token, workerId: this.options.workerId ?? '', pid: process.pid };
    // One handler from the start: the raylet may send a task in the same packet as the welcome.
    const welcome = new Promise<Welcome>((resolve, reject) => {
      this.conn.on('message', (m) => {
        if (m.type === 'welcome') {
          this.welcome = m;
          this.address = { nodeId: m.nodeId, clientId: m.clientId };
          this.nodeIp = m.nodeIp;
          resolve(m);
        } else if (m.type === 'refused') {
          reject(new Error(`the raylet refused this ${this.options.role}: ${m.reason}`));
        } else {
          this.onMessage(m);
        }
      });
      this.conn.once('close', (err) => reject(err ?? new Error('the raylet closed the connection')));
    });
    this.conn.send(hello);
    await welcome;
    this.conn.on('close', (err) => {
      for (const r of this.replies.values()) r.reject(new Error('the raylet connection closed'));
      this.replies.clear();
      this.onDisconnect?.(err);
    });
  }

  private onMessage(message: RayletMessage): void {
    switch (message.type) {
      case 'taskResult':
        this.onTaskOutcome(message.outcome);
        break;
      case 'reply': {
        const waiter = this.replies.get(message.reqId);
        this.replies.delete(message.reqId);
        waiter?.resolve(message);
        break;
      }
      case 'gc':
        collectGarbage();
        break;
      case 'logs':
        this.onLogs(message);
        break;
      case 'ownerLookup':
        void this.store.whenSettled(message.objectId).then(() => {
          const st = this.store.get(message.objectId);
          const state: OwnedState = !st || st.status === 'pending' ? { status: 'unknown' } : st;
          this.send({ type: 'ownerLookupReply', reqId: message.reqId, state });
        });
        break;
      case 'refsRequest':
        this.send({ type: 'refsReply', reqId: message.reqId, refs: this.refsInfo() });
        break;
      case 'execute':
        if (this.executeHandler) this.executeHandler(message);
        else this.earlyExecutes.push(message);
        break;
      case 'actorReady':
        this.actorSubmitter?.handleActorReady(message);
        break;
      case 'createActor':
        if (this.createActorHandler) this.createActorHandler(message);
        else this.earlyCreates.push(message);
        break;
      default:
        break;
    }
  }

  private createActorHandler?: (message: CreateActor) => void;
  /** A creation can arrive in the same packet as the welcome, before the handler is attached. */
  private earlyCreates: CreateActor[] = [];

  /** Set in workers: the raylet makes this worker an actor's. */
  set onCreateActor(handler: (message: CreateActor) => void) {
    this.createActorHandler = handler;
    for (const m of this.earlyCreates.splice(0)) handler(m);
  }

  set onExecute(handler: (message: Execute) => void) {
    this.executeHandler = handler;
    const early = this.earlyExecutes;
    this.earlyExecutes = [];
    for (const m of early) handler(m);
  }

  send(message: ClientMessage): void {
    this.conn.send(message);
  }

  request(message: RequestBody): Promise<Reply> {
    const reqId = this.nextReqId++;
    return new Promise((resolve, reject) => {
      this.replies.set(reqId, { resolve, reject });
      this.conn.send({ ...message, reqId } as ClientRequest);
    });
  }

  // ---- functions -------------------------------------------------------------------------

  /** Stores the function's source in the GCS function table once (per process and hash). */
  exportFunction(desc: RemoteFunctionDescriptor): Promise<void> {
    let done = this.exports.get(desc.hash);
    if (!done) {
      done = this.gcs.kvPut(FUNCTION_NAMESPACE, desc.hash, functionDescriptorBytes(desc), false).then(() => undefined);
      this.exports.set(desc.hash, done);
      done.catch(() => this.exports.delete(desc.hash));
    }
    return done;
  }

  // ---- tasks -----------------------------------------------------------------------------

  submitTask(desc: RemoteFunctionDescriptor, args: unknown[], options: TaskOptions, depth = 0): ObjectRef {
    const returnId = newObjectId();
    this.callSites.record(returnId);
    this.store.addPending(returnId);
    const spec: TaskSpec = {
      taskId: newTaskId(), jobId: this.jobId, attempt: 0, name: options.name ?? desc.name, fnHash: desc.hash, args: [], returnId,
      resources: resourceShape(options), strategy: strategyOf(options.scheduling), owner: this.address, depth,
      driverNodeId: this.driverNodeId || this.address.nodeId,
    };
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.tasks.set(returnId, { spec, retriesLeft: maxRetries < 0 ? Infinity : maxRetries, retryExceptions: options.retryExceptions ?? false });
    const exported = this.exports.get(desc.hash);
    const hasRefs = args.some((a) => a instanceof ObjectRef);
    if (exported && !hasRefs && this.exportsSettled.has(desc.hash)) {
      let inline: TaskArg[] | undefined;
      try {
        inline = this.inlineArgs(args, spec.name);
      } catch (err) {
        this.failLocally(returnId, spec.name, 'SERIALIZATION', err as Error);
        return new ObjectRef(returnId, this.address);
      }
      if (inline) {
        spec.args = inline;
        this.send({ type: 'submit', task: spec });
      } else {
        void this.submitSlow(desc, spec, args);
      }
    } else {
      void this.submitSlow(desc, spec, args);
    }
    return new ObjectRef(returnId, this.address);
  }

  /**
   * The arguments encoded to travel inside the task message, when every one is a plain value small
   * enough; undefined when one is a ref or too large (the caller resolves them asynchronously).
   * Throws SerializationError for a value that cannot be encoded.
   */
  inlineArgs(args: unknown[], name: string): TaskArg[] | undefined {
    const out: TaskArg[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] instanceof ObjectRef) return undefined;
      const e = encodeForStore(args[i], `argument ${i} of ${name}`);
      const size = sizeOf(e);
      if (size > this.welcome.maxInlineBytes) return undefined;
      out.push({ kind: 'value', data: toInline(e, size) });
    }
    return out;
  }

  private readonly exportsSettled = new Set<string>();

  private async submitSlow(desc: RemoteFunctionDescriptor, spec: TaskSpec, args: unknown[]): Promise<void> {
    try {
      await this.exportFunction(desc);
      this.exportsSettled.add(desc.hash);
      const refs = args.filter((a): a is ObjectRef => a instanceof ObjectRef).map((r) => r.id);
      if (refs.length > 0) {
        const record = this.tasks.get(spec.returnId);
        if (record) record.argRefs = refs;
        for (const id of refs) this.pendingArgs.set(id, (this.pendingArgs.get(id) ?? 0) + 1);
      }
      spec.args = await Promise.all(args.map((a, i) => this.resolveArg(a, i, spec.name)));
    } catch (err) {
      const failure = (err as { failure?: TaskFailure }).failure;
      if (failure) this.store.resolve(spec.returnId, { status: 'failed', failure, taskName: spec.name });
      else this.failLocally(spec.returnId, spec.name, 'SERIALIZATION', err as Error);
      return;
    }
    this.send({ type: 'submit', task: spec });
  }

  /**
   * Top-level ObjectRef arguments are resolved to their values before the task runs; large values
   * go through the object store (the task reads them in place on this node).
   */
  async resolveArg(arg: unknown, index: number, taskName: string): Promise<TaskArg> {
    if (!(arg instanceof ObjectRef)) {
      const stored = await this.storeValue(newPutId(), arg, `argument ${index} of ${taskName}`);
      return stored.kind === 'inline' ? { kind: 'value', data: stored.data } : { kind: 'plasma', objectId: stored.objectId, nodeId: stored.nodeId, size: stored.size };
    }
    await this.store.whenSettled(arg.id);
    const state = this.store.get(arg.id);
    if (!state) throw Object.assign(new Error(`argument ${index} of ${taskName} is a ref this process does not know`), {});
    if (state.status === 'failed') throw Object.assign(new Error('dependency failed'), { failure: state.failure });
    if (state.status === 'ready' && state.value.kind === 'inline') return { kind: 'value', data: state.value.data };
    if (state.status === 'ready' && state.value.kind === 'plasma') return { kind: 'plasma', objectId: arg.id, nodeId: state.value.nodeId, size: state.value.size };
    throw new Error('unreachable');
  }

  private failLocally(returnId: string, name: string, type: TaskFailure['type'], err: Error): void {
    this.store.resolve(returnId, { status: 'failed', failure: { type, message: err.message, errorName: err.name, stack: err.stack }, taskName: name });
  }

  /** Cancels the task that makes `ref` (no effect once it finished). */
  cancel(ref: ObjectRef, force: boolean): void {
    const record = this.tasks.get(ref.id);
    if (!record || record.cancelled) return;
    record.cancelled = true;
    this.send({ type: 'cancel', taskId: record.spec.taskId, force });
  }

  private onTaskOutcome(outcome: TaskOutcome): void {
    if (this.actorSubmitter?.handleOutcome(outcome)) return; // an actor call's, relayed
    const record = this.tasks.get(outcome.returnId);
    if (!record || outcome.attempt !== record.spec.attempt) return; // a stale attempt
    if (record.cancelled) {
      this.finishRecord(record);
      this.store.resolve(outcome.returnId, { status: 'failed', failure: { type: 'CANCELLED', message: 'cancelled' }, taskName: record.spec.name });
      return;
    }
    if (outcome.failure) {
      const systemFailure = outcome.failure.type === 'WORKER_DIED' || outcome.failure.type === 'NODE_DIED';
      const retriable = systemFailure || (outcome.failure.type === 'APPLICATION' && record.retryExceptions);
      if (retriable && record.retriesLeft > 0) {
        record.retriesLeft -= 1;
        record.spec = { ...record.spec, attempt: record.spec.attempt + 1 };
        this.send({ type: 'submit', task: record.spec });
        return;
      }
      this.finishRecord(record);
      this.store.resolve(outcome.returnId, { status: 'failed', failure: outcome.failure, taskName: record.spec.name });
      return;
    }
    this.finishRecord(record);
    if (outcome.value!.kind === 'plasma') this.lineage.set(outcome.returnId, record);
    this.store.resolve(outcome.returnId, { status: 'ready', value: outcome.value! });
  }

  private finishRecord(record: TaskRecord): void {
    this.tasks.delete(record.spec.returnId);
    for (const id of record.argRefs ?? []) this.countDown(this.pendingArgs, id);
    record.argRefs = undefined;
  }

  private countDown(map: Map<string, number>, id: string): void {
    const n = (map.get(id) ?? 0) - 1;
    if (n > 0) map.set(id, n);
    else map.delete(id);
  }

  /** This process's object references, classified as `ray memory` does (ray-behaviour §7). */
  refsInfo(): RefInfo[] {
    const out: RefInfo[] = [];
    for (const id of this.store.ids()) {
      const state = this.store.get(id)!;
      const size = state.status === 'ready' ? (state.value.kind === 'inline' ? state.value.data.length : state.value.size) : -1;
      const record = this.tasks.get(id) ?? this.lineage.get(id);
      const referenceType: RefInfo['referenceType'] = this.pinnedValues.has(id) ? 'PINNED_IN_MEMORY'
        : this.pendingArgs.has(id) ? 'USED_BY_PENDING_TASK'
          : this.captured.has(id) ? 'CAPTURED_IN_OBJECT' : 'LOCAL_REFERENCE';
      out.push({
        objectId: id, size, referenceType, attempt: record?.spec.attempt ?? 0, callSite: this.callSites.of(id),
        status: state.status === 'pending' ? 'PENDING' : state.status === 'failed' ? 'FAILED' : 'FINISHED',
      });
    }
    return out;
  }

  // ---- objects ---------------------------------------------------------------------------

  private attachArena(): Arena {
    if (!this.arena) {
      const w = this.welcome;
      this.arena = Arena.attach(w.arenaPath, w.arenaSize, { segmentSize: w.arenaSegmentSize, writable: true });
    }
    return this.arena;
  }

  /** Encodes a value: small ones stay inline, large ones are written into this node's store. */
  async storeValue(id: string, value: unknown, what: string): Promise<ReturnValue & { objectId: string }> {
    const e = encodeForStore(value, what);
    for (const wire of e.refs) if (!wire.startsWith(ACTOR_WIRE_PREFIX)) this.captured.add(wire.slice(0, wire.indexOf('|')));
    const size = sizeOf(e);
    if (size <= this.welcome.maxInlineBytes) return { kind: 'inline', data: toInline(e, size), objectId: id };
    const created = await this.request({ type: 'objCreate', objectId: id, size, owner: this.address });
    if (!created.ok) throw rayletError(created, `storing ${what}`);
    const arena = this.attachArena();
    // ~8x faster for a large first write here than one fault per page while copying.
    arena.populate(created.offset!, size, 'write');
    writeTo(e, arena.view(created.offset!, size));
    const sealed = await this.request({ type: 'objSeal', objectId: id });
    if (!sealed.ok) throw rayletError(sealed, `sealing ${what}`);
    return { kind: 'plasma', nodeId: this.address.nodeId, size, objectId: id };
  }

  async put(value: unknown): Promise<ObjectRef> {
    const id = newPutId();
    this.callSites.record(id);
    const stored = await this.storeValue(id, value, 'the value given to put');
    this.store.resolve(id, { status: 'ready', value: stored.kind === 'inline' ? { kind: 'inline', data: stored.data } : { kind: 'plasma', nodeId: stored.nodeId, size: stored.size } });
    return new ObjectRef(id, this.address);
  }

  /** Reads an object from this node's store (pulled first if it lives elsewhere), without copying it. */
  async readPlasma(objectId: string, nodeId: string): Promise<unknown> {
    let at = this.pinnedAt.get(objectId);
    const pinnedHere = !!at;
    if (!at) {
      const got = await this.request({ type: 'objGet', objectId, nodeId, size: 0 });
      if (!got.ok) throw rayletError(got, `reading object ${objectId}`);
      at = { offset: got.offset!, size: got.size! };
    }
    const value = decodeInPlace(this.attachArena().view(at.offset, at.size));
    if (typeof value === 'object' && value !== null) {
      this.pinRegistry.register(value, objectId);
      this.pinnedValues.set(objectId, (this.pinnedValues.get(objectId) ?? 0) + 1);
      this.pinnedAt.set(objectId, at);
    } else if (!pinnedHere) {
      this.send({ type: 'objRelease', reqId: 0, objectIds: [objectId] } as ClientMessage);
    }
    return value;
  }

  /** Values of the refs, in order; rejects with the first failure or GetTimeoutError. */
  async get(refs: ObjectRef[], timeoutMs?: number): Promise<unknown[]> {
    const pending = refs.filter((r) => this.store.get(r.id)?.status === 'pending');
    if (pending.length > 0) await this.waitSettled(pending, pending.length, timeoutMs, true);
    return Promise.all(refs.map((r) => this.valueOf(r)));
  }

  private async valueOf(ref: ObjectRef): Promise<unknown> {
    const state: EntryState | undefined = this.store.get(ref.id) ?? (await this.borrow(ref));
    if (state.status === 'failed') throw failureToError(state.failure, state.taskName);
    if (state.status === 'pending') throw new Error('unreachable: pending after wait');
    if (state.value.kind === 'inline') return decode(state.value.data);
    try {
      return await this.readPlasma(ref.id, state.value.nodeId);
    } catch (err) {
      if (!(err instanceof ObjectLostError)) throw err;
      return this.reconstruct(ref, err);
    }
  }

  /**
   * A ref this process does not own (it arrived inside a value): ask its owner, through the raylets,
   * for the value or its location. The owner answers once the object is no longer pending.
   */
  private async borrow(ref: ObjectRef): Promise<EntryState> {
    const reply = await this.request({ type: 'ownerGet', objectId: ref.id, owner: ref.owner });
    if (!reply.ok) {
      throw new OwnerDiedError(`the owner of ${ref} (client ${ref.owner.clientId} on node ${ref.owner.nodeId.slice(0, 12)}…) is gone: ${reply.error}`,
        'Ray does not recover objects whose owner died: keep the owner (driver or task) alive while others use its refs');
    }
    const state = reply.info as OwnedState;
    if (state.status === 'unknown') throw new ObjectLostError(`the owner of ${ref} no longer has it (it was freed)`);
    return state;
  }

  /** Lineage reconstruction: re-run the task that made a lost object, within its retries. */
  private async reconstruct(ref: ObjectRef, lost: ObjectLostError): Promise<unknown> {
    const record = this.lineage.get(ref.id);
    if (!record) {
      throw new ObjectLostError(`${lost.message}. It was created by put, so it cannot be rebuilt: only task outputs are (by re-running their task)`,
        'put the value again from its source; data that must survive the loss of its copy should be made by a task, which lineage can re-run');
    }
    if (record.retriesLeft <= 0) throw new ObjectLostError(`${lost.message}; rebuilding it needs a retry of ${record.spec.name}, and none are left`);
    this.lineage.delete(ref.id);
    record.retriesLeft -= 1;
    record.spec = { ...record.spec, attempt: record.spec.attempt + 1 };
    this.tasks.set(ref.id, record);
    this.store.reset(ref.id);
    this.send({ type: 'submit', task: record.spec });
    await this.store.whenSettled(ref.id);
    return this.valueOf(ref);
  }

  /** Waits until `count` of the refs are settled or the timeout passes. */
  private waitSettled(refs: ObjectRef[], count: number, timeoutMs: number | undefined, throwOnTimeout: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = 0;
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        if (timer) clearTimeout(timer);
        this.unblock();
        if (err) reject(err);
        else resolve();
      };
      this.block();
      for (const r of refs) {
        this.store.onSettled(r.id, () => {
          settled += 1;
          if (settled >= count) finish();
        });
      }
      if (finished) return;
      if (timeoutMs !== undefined && timeoutMs >= 0) {
        timer = setTimeout(() => (throwOnTimeout
          ? finish(new GetTimeoutError(`get timed out after ${timeoutMs / 1000} s with ${refs.length - settled} of ${refs.length} objects not ready`))
          : finish()), timeoutMs);
      }
    });
  }

  async wait(refs: ObjectRef[], numReturns: number, timeoutMs?: number): Promise<[ObjectRef[], ObjectRef[]]> {
    const isSettled = (r: ObjectRef) => this.store.get(r.id)?.status !== 'pending';
    if (refs.filter(isSettled).length < numReturns) await this.waitSettled(refs.filter((r) => !isSettled(r)), numReturns - refs.filter(isSettled).length, timeoutMs, false);
    const ready = refs.filter(isSettled).sort((a, b) => this.store.readyOrder(a.id) - this.store.readyOrder(b.id)).slice(0, numReturns);
    const readySet = new Set(ready);
    return [ready, refs.filter((r) => !readySet.has(r))];
  }

  /** Releases objects now: their entries here and their copies in the stores (primary and spilled). */
  async free(refs: ObjectRef[]): Promise<void> {
    const inStore: { objectId: string; nodeId: string }[] = [];
    for (const r of refs) {
      const state = this.store.get(r.id);
      if (!state || state.status === 'pending') continue;
      if (state.status === 'ready' && state.value.kind === 'plasma') inStore.push({ objectId: r.id, nodeId: state.value.nodeId });
      this.store.delete(r.id);
      this.lineage.delete(r.id);
      this.callSites.forget(r.id);
    }
    if (inStore.length > 0) {
      const reply = await this.request({ type: 'objDelete', objects: inStore });
      if (!reply.ok) throw rayletError(reply, 'freeing objects');
    }
  }

  // A worker waiting in get/wait gives its CPU back so that nested tasks can run (no deadlock).
  /** Called when this worker's running task starts waiting (the executor hands back queued tasks). */
  onBlocked?: () => void;

  get isBlocked(): boolean {
    return this.blockedDepth > 0;
  }

  private block(): void {
    if (this.options.role !== 'worker') return;
    if (this.blockedDepth++ === 0) {
      this.send({ type: 'blocked' });
      this.onBlocked?.();
    }
  }

  private unblock(): void {
    if (this.options.role !== 'worker') return;
    if (--this.blockedDepth === 0) this.send({ type: 'unblocked' });
  }

  private actorSubmitter?: ActorSubmitter;
  /** Actor creation and calls (made on first use). */
  get actors(): ActorSubmitter {
    return (this.actorSubmitter ??= new ActorSubmitter(this, loadConfig()));
  }

  close(): void {
    this.actorSubmitter?.close();
    this.conn?.close();
    this.gcs.close();
  }
}

/**
 * JS garbage collection is not prompt, and a value read from the store pins its object until it is
 * collected. When the store runs short, the raylet asks its clients to collect now. Node has no gc()
 * without --expose-gc, so the flag is set at run time and the function taken from a fresh context.
 */
let gcFunction: (() => void) | undefined;
export function collectGarbage(): void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
}

/** An error reply of the raylet as the right error class. */
export function rayletError(reply: Reply, what: string): Error {
  const message = `${what}: ${reply.error ?? 'failed'}`;
  if (reply.errorType === 'ObjectLostError') return new ObjectLostError(message);
  if (reply.errorType === 'ObjectStoreFullError') return new ObjectStoreFullError(message);
  if (reply.errorType === 'OutOfDiskError') return new OutOfDiskError(message);
  return new RaytsError(message);
}

export function resourceShape(options: TaskOptions): ResourceShape {
  const shape: ResourceShape = { CPU: options.numCpus ?? 1 };
  if (options.numGpus) shape.GPU = options.numGpus;
  if (options.memory) shape.memory = options.memory;
  for (const [k, v] of Object.entries(options.resources ?? {})) shape[k] = v;
  for (const k of Object.keys(shape)) if (shape[k] === 0) delete shape[k];
  return options.placementGroup ? placementGroupShape(shape, options.placementGroup, options.bundleIndex) : shape;
}

export function strategyOf(s: TaskOptions['scheduling']): SchedulingStrategy {
  if (!s || s === 'DEFAULT') return { kind: 'DEFAULT' };
  if (s === 'SPREAD') return { kind: 'SPREAD' };
  return { kind: 'NODE_AFFINITY', nodeId: s.nodeId, soft: s.soft };
}
