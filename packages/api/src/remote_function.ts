/**
 * `remote(fn)` → a RemoteFunction whose `.remote(...args)` submits a task and returns a typed
 * ObjectRef. Arguments may be values or ObjectRefs of the parameter's type (resolved before the
 * task runs); a wrong argument type is a compile error.
 */
import { checkPlacementOptions, describeRemote, type ObjectRef, type RemoteFunctionDescriptor, type TaskOptions } from '@rayts/core-worker';
import { runtime } from './state.js';

/** Each parameter accepts its type or an ObjectRef to it. */
export type RemoteArgs<A extends unknown[]> = { [K in keyof A]: A[K] | ObjectRef<A[K]> };

export interface RemoteFunction<A extends unknown[], R> {
  /** Submits the task; the ref resolves to what the function returns (awaited). */
  remote(...args: RemoteArgs<A>): ObjectRef<Awaited<R>>;
  /** The same function with other options (resources, retries, scheduling). */
  options(options: TaskOptions): RemoteFunction<A, R>;
  readonly descriptor: RemoteFunctionDescriptor;
}

export function makeRemoteFunction<A extends unknown[], R>(fn: (...args: A) => R, options: TaskOptions): RemoteFunction<A, R> {
  // Throws ClosureError (naming the variables) for a function that uses outer variables.
  const descriptor = describeRemote(fn, 'function');
  return {
    descriptor,
    remote: (...args) => runtime().submitTask(descriptor, args, options) as ObjectRef<Awaited<R>>,
    options: (more) => makeRemoteFunction(fn, checkPlacementOptions({ ...options, ...more })),
  };
}
