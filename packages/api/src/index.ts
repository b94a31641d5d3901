/**
 * rayts: Ray's API for TypeScript. `init`, `remote`, `get`, `put`, `wait`, …
 */
import { ObjectRef, type RuntimeContext, type TaskOptions } from '@rayts/core-worker';
import { makeRemoteFunction, type RemoteFunction } from './remote_function.js';
import { runtime, driverState } from './state.js';

export { init, shutdown, isInitialized, type InitOptions } from './init.js';
export { ObjectRef };
export type { RemoteFunction, RemoteArgs } from './remote_function.js';
export type { TaskOptions };
export {
  RayTaskError, WorkerCrashedError, NodeDiedError, GetTimeoutError, ObjectLostError, OwnerDiedError, TaskCancelledError,
  TaskUnschedulableError, TaskSerializationError, OutOfMemoryError, ActorDiedError, ActorUnavailableError, PendingCallsLimitExceededError,
  ActorMethodNotFoundError, InvalidPlacementGroupError, InvalidResourceRequestError,
} from '@rayts/core-worker';
export { RuntimeEnvSetupError, ClosureError, RemoteSourceError } from '@rayts/core-worker';
export { ObjectStoreFullError, OutOfDiskError, SerializationError, RaytsError, RuntimeEnvError, HeadUnavailableError } from '@rayts/common';
export type { RuntimeEnv } from '@rayts/common';
export { NotInitializedError, ActorOptionsError, ActorNotFoundError, PlacementGroupRemovedError } from './errors.js';
export { getActor, kill, listActors, type ActorClass, type ActorHandle, type ActorOptions, type ActorState } from './actor_class.js';
import { makeActorClass, type ActorClass, type ActorOptions, type AnyClass } from './actor_class.js';
export {
  PlacementGroup, placementGroup, removePlacementGroup, getPlacementGroup,
  type PlacementGroupOptions, type PlacementStrategy, type PlacementGroupState,
} from './placement_group.js';

/**
 * Makes a function remote (`remote(fn)`, `remote({ numCpus: 2 }, fn)`), or a class an actor class
 * (`remote(class Counter { … })`, `remote({ maxRestarts: 1 }, Counter)`).
 */
export function remote<C extends AnyClass>(cls: C): ActorClass<C>;
export function remote<C extends AnyClass>(options: ActorOptions, cls: C): ActorClass<C>;
export function remote<A extends unknown[], R>(fn: (...args: A) => R): RemoteFunction<A, R>;
export function remote<A extends unknown[], R>(options: TaskOptions, fn: (...args: A) => R): RemoteFunction<A, R>;
export function remote(a: TaskOptions | ActorOptions | ((...args: unknown[]) => unknown), b?: (...args: unknown[]) => unknown): unknown {
  const [options, target] = typeof a === 'function' ? [{}, a] : [a, b];
  if (typeof target !== 'function') throw new TypeError('remote(options, fn): the second argument must be a function or a class');
  if (isClass(target)) return makeActorClass(target as unknown as AnyClass, options as ActorOptions);
  return makeRemoteFunction(target, options as TaskOptions);
}

function isClass(fn: (...args: unknown[]) => unknown): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

export interface GetOptions {
  /** Seconds; GetTimeoutError after it. */
  timeout?: number;
}

type Values<T extends readonly ObjectRef<unknown>[]> = { -readonly [K in keyof T]: T[K] extends ObjectRef<infer U> ? U : never };

/** The value of a ref, or the values of an array of refs (in order). */
export function get<T>(ref: ObjectRef<T>, options?: GetOptions): Promise<T>;
export function get<const T extends readonly ObjectRef<unknown>[]>(refs: T, options?: GetOptions): Promise<Values<T>>;
export async function get(refs: ObjectRef<unknown> | readonly ObjectRef<unknown>[], options: GetOptions = {}): Promise<unknown> {
  const list = Array.isArray(refs) ? refs : [refs as ObjectRef<unknown>];
  for (const r of list) if (!(r instanceof ObjectRef)) throw new TypeError(`get() takes ObjectRefs, got ${typeof r === 'object' ? r?.constructor?.name : typeof r}`);
  const values = await runtime().get(list as ObjectRef<unknown>[], options.timeout === undefined ? undefined : options.timeout * 1000);
  return Array.isArray(refs) ? values : values[0];
}

/** Stores a value in the cluster and returns a ref to it. */
export async function put<T>(value: T): Promise<ObjectRef<T>> {
  return (await runtime().put(value)) as ObjectRef<T>;
}

export interface WaitOptions {
  /** How many refs must be ready (default 1). */
  numReturns?: number;
  /** Seconds (default: no limit). */
  timeout?: number;
  /** Accepted for Ray compatibility. */
  fetchLocal?: boolean;
}

/** Splits refs into [ready, notReady]: ready in completion order, at most numReturns of them. */
export async function wait<T>(refs: ObjectRef<T>[], options: WaitOptions = {}): Promise<[ObjectRef<T>[], ObjectRef<T>[]]> {
  const numReturns = options.numReturns ?? 1;
  if (!Number.isInteger(numReturns) || numReturns < 0 || numReturns > refs.length) {
    throw new RangeError(`numReturns must be between 0 and the number of refs (${refs.length}), got ${numReturns}`);
  }
  return runtime().wait(refs, numReturns, options.timeout === undefined ? undefined : options.timeout * 1000) as Promise<[ObjectRef<T>[], ObjectRef<T>[]]>;
}

/**
 * Cancels the task that makes `ref`: a queued task never runs; a running one is killed with its
 * worker when `force` is set (otherwise it finishes, but `get` raises TaskCancelledError either way).
 */
export async function cancel(ref: ObjectRef<unknown>, options: { force?: boolean } = {}): Promise<void> {
  runtime().cancel(ref, options.force ?? false);
}

/** Releases the objects now instead of waiting for garbage collection. */
export async function free(refs: ObjectRef<unknown>[]): Promise<void> {
  await runtime().free(refs);
}

export type { RuntimeContext } from '@rayts/core-worker';

/** Where the caller runs: job, node, worker, and (inside a task) the task. */
export function getRuntimeContext(): RuntimeContext {
  const core = runtime();
  return {
    jobId: driverState()?.jobId ?? core.jobId, nodeId: core.address.nodeId, nodeIp: core.nodeIp,
    workerId: core.options.workerId ?? '', taskId: core.taskId, actorId: core.actorId, gpuIds: core.gpuIds,
  };
}

/**
 * The GPUs of this node the running task or actor holds (Ray's `ray.get_gpu_ids()`): its
 * `CUDA_VISIBLE_DEVICES`, as numbers. [] when it holds none, and in a driver.
 */
export function getGpuIds(): number[] {
  return runtime().gpuIds;
}


/** Total resources of the alive nodes (CPU, GPU, memory, object_store_memory, custom, node:<ip>). */
export async function clusterResources(): Promise<Record<string, number>> {
  return sumResources((await runtime().gcs.listNodes(false)).map((n) => n.resourcesTotal));
}

/** Resources not in use right now, as the nodes last reported them. */
export async function availableResources(): Promise<Record<string, number>> {
  return sumResources((await runtime().gcs.listNodes(false)).map((n) => n.resourcesAvailable));
}

export interface NodeInfo {
  NodeID: string;
  Alive: boolean;
  NodeManagerAddress: string;
  NodeManagerPort: number;
  NodeName: string;
  IsHead: boolean;
  Resources: Record<string, number>;
  Labels: Record<string, string>;
}

/** Every node the cluster knows, alive and dead, with Ray's field names. */
export async function nodes(): Promise<NodeInfo[]> {
  return (await runtime().gcs.listNodes(true)).map((n) => ({
    NodeID: n.nodeId, Alive: n.state === 'NODE_ALIVE', NodeManagerAddress: n.nodeIp, NodeManagerPort: n.rayletPort, NodeName: n.hostname,
    IsHead: n.isHead, Resources: sumResources([n.resourcesTotal]), Labels: n.labels,
  }));
}

function sumResources(maps: Record<string, number | string>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + Number(v);
  return out;
}
