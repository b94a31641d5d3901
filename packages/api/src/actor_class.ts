/**
 * `remote(class)` → an ActorClass whose `.remote(...ctorArgs)` creates the actor and returns a typed
 * ActorHandle: `handle.method.remote(...)` is an ObjectRef of the method's (awaited) return type, and
 * a wrong argument type or a method the class does not have is a compile error.
 */
import { strategyToMsg, type ResourceMap } from '@rayts/common';
import {
  checkPlacementOptions, describeRemote, isNotFound, resourceShape, strategyOf, type ActorHandleBase, type ObjectRef, type TaskOptions,
} from '@rayts/core-worker';
import type { RemoteArgs } from './remote_function.js';
import { ActorNotFoundError, ActorOptionsError } from './errors.js';
import { driverState, runtime } from './state.js';

/** Options of an actor (Ray's names). */
export interface ActorOptions extends Omit<TaskOptions, 'maxRetries' | 'retryExceptions'> {
  /** Name to find it with getActor (unique among live actors of the namespace). */
  name?: string;
  /** Namespace of the name (default 'default'). */
  namespace?: string;
  /** 'detached': the actor outlives the driver that created it. */
  lifetime?: 'detached' | 'non_detached';
  /** Restarts after its process or node dies (default 0; -1 = no limit). */
  maxRestarts?: number;
  /** Retries of a call that was running when the actor died (default 0; -1 = no limit). */
  maxTaskRetries?: number;
  /** Calls a handle may have in flight before `.remote()` throws (default -1 = no limit). */
  maxPendingCalls?: number;
  /** Calls that may run at once (default 1, or 1000 for a class with async methods). */
  maxConcurrency?: number;
}

/** A class's methods as remote calls. */
export type ActorHandle<T> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]:
  T[K] extends (...args: infer A) => infer R ? { remote(...args: RemoteArgs<A>): ObjectRef<Awaited<R>> } : never;
} & { readonly actorId: string };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyClass = new (...args: any[]) => any;

export interface ActorClass<C extends AnyClass> {
  /** Creates the actor (its constructor runs in a worker of the cluster) and returns its handle at once. */
  remote(...args: RemoteArgs<ConstructorParameters<C>>): ActorHandle<InstanceType<C>>;
  /** The same class with other options (name, lifetime, restarts, resources, …). */
  options(options: ActorOptions): ActorClass<C>;
}


export const DEFAULT_NAMESPACE = 'default';

function checkInt(value: number | undefined, min: number, what: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw new ActorOptionsError(`${what} must be an integer of at least ${min}, got ${value}`);
  }
}

function validate(o: ActorOptions): void {
  checkInt(o.maxRestarts, -1, 'maxRestarts');
  checkInt(o.maxTaskRetries, -1, 'maxTaskRetries');
  checkInt(o.maxPendingCalls, -1, 'maxPendingCalls');
  checkInt(o.maxConcurrency, 1, 'maxConcurrency');
  if (o.lifetime !== undefined && o.lifetime !== 'detached' && o.lifetime !== 'non_detached') {
    throw new ActorOptionsError(`lifetime must be 'detached' or 'non_detached', got ${JSON.stringify(o.lifetime)}`);
  }
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > 256)) {
    throw new ActorOptionsError('name must be a non-empty string of at most 256 characters');
  }
  for (const [k, v] of Object.entries({ numCpus: o.numCpus, numGpus: o.numGpus, memory: o.memory, ...o.resources })) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new ActorOptionsError(`${k} must be a non-negative number, got ${v}`);
    }
  }
}

/** Every method of the class (own and inherited), and whether any is async. */
function methodsOf(cls: AnyClass): { names: string[]; anyAsync: boolean } {
  const names = new Set<string>();
  let anyAsync = false;
  for (let proto = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (typeof d?.value !== 'function') continue;
      names.add(name);
      const kind = (d.value as { constructor?: { name?: string } }).constructor?.name;
      if (kind === 'AsyncFunction' || kind === 'AsyncGeneratorFunction') anyAsync = true;
    }
  }
  return { names: [...names], anyAsync };
}

/** Ray's rule: an actor given no resources needs 1 CPU to be placed and holds none while it lives. */
function resourcesOf(o: ActorOptions): { placement: ResourceMap; held: ResourceMap } {
  const given = o.numCpus !== undefined || o.numGpus !== undefined || o.memory !== undefined || Object.keys(o.resources ?? {}).length > 0;
  if (!given) {
    const base = resourceShape({ ...o, numCpus: 0 });
    return { placement: { ...base, CPU: (base.CPU ?? 0) + 1 }, held: base };
  }
  const shape = resourceShape({ ...o, numCpus: o.numCpus ?? 0 });
  return { placement: shape, held: shape };
}

export function makeActorClass<C extends AnyClass>(cls: C, options: ActorOptions): ActorClass<C> {
  validate(options);
  const desc = describeRemote(cls, 'class');
  const { names, anyAsync } = methodsOf(cls);
  return {
    remote: (...args) => {
      const core = runtime();
      const { placement, held } = resourcesOf(options);
      const data = {
        className: desc.name, methodNames: names, maxTaskRetries: options.maxTaskRetries ?? 0, maxPendingCalls: options.maxPendingCalls ?? -1,
      };
      const handle: ActorHandleBase = core.actors.create(desc, data, args, {
        jobId: core.jobId, className: desc.name, classHash: desc.hash, methodNames: names, name: options.name ?? '',
        namespace: options.namespace ?? driverState()?.namespace ?? DEFAULT_NAMESPACE, detached: options.lifetime === 'detached',
        maxRestarts: options.maxRestarts ?? 0, maxTaskRetries: data.maxTaskRetries, maxConcurrency: options.maxConcurrency ?? (anyAsync ? 1000 : 1),
        maxPendingCalls: data.maxPendingCalls, placementResources: placement, heldResources: held,
        strategy: strategyToMsg(strategyOf(options.scheduling)),
        ownerNodeId: core.address.nodeId, ownerClientId: core.address.clientId, jobDir: core.jobDir ?? process.cwd(),
        driverNodeId: core.driverNodeId || core.address.nodeId,
      });
      return handle as unknown as ActorHandle<InstanceType<C>>;
    },
    options: (more) => makeActorClass(cls, checkPlacementOptions({ ...options, ...more })),
  };
}

/** A live named actor's handle; ActorNotFoundError when there is none. */
export async function getActor<T = unknown>(name: string, options: { namespace?: string } = {}): Promise<ActorHandle<T>> {
  const core = runtime();
  try {
    const info = await core.actors.gcs.getNamedActor(name, options.namespace ?? driverState()?.namespace ?? DEFAULT_NAMESPACE);
    return core.actors.handleFor(info) as unknown as ActorHandle<T>;
  } catch (err) {
    if (isNotFound(err)) throw new ActorNotFoundError(err.message, 'check the name and namespace (getActor(name, { namespace }))');
    throw err;
  }
}


/** Kills an actor (by default for good; `noRestart: false` lets it restart if it has restarts left). */
export async function kill(handle: ActorHandle<unknown> | ActorHandleBase, options: { noRestart?: boolean } = {}): Promise<void> {
  const base = handle as unknown as ActorHandleBase;
  if (!base || typeof base !== 'object' || !('actorData' in base)) throw new TypeError('kill() takes an actor handle');
  await runtime().actors.kill(base.actorData, options.noRestart ?? true);
}

/** One actor as the head records it (Ray's state API fields). */
export interface ActorState {
  actorId: string;
  className: string;
  state: string;
  name: string;
  namespace: string;
  pid: number;
  nodeId: string;
  numRestarts: number;
  deathCause: string;
  deathMessage: string;
  detached: boolean;
  jobId: string;
}

/** Every actor the head knows (with dead ones when asked), like `ray.util.state.list_actors`. */
export async function listActors(options: { includeDead?: boolean } = {}): Promise<ActorState[]> {
  const infos = await runtime().actors.gcs.listActors(options.includeDead ?? true);
  return infos.map((a) => ({
    actorId: a.actorId, className: a.className, state: a.state, name: a.name, namespace: a.namespace, pid: a.pid, nodeId: a.nodeId,
    numRestarts: a.numRestarts, deathCause: a.deathCause, deathMessage: a.deathMessage, detached: a.detached, jobId: a.jobId,
  }));
}
