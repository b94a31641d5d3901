/**
 * Errors across the wire, one converter each way: a task's failure (what a worker reports, what an
 * owner stores) to the Error that `get` throws and back, and a raylet's error reply to its class.
 */
import { NotFoundError, ObjectStoreFullError, OutOfDiskError, RaytsError } from '@rayts/common';
import {
  ActorDiedError, ActorUnavailableError, NodeDiedError, ObjectLostError, OutOfMemoryError, RayTaskError, RuntimeEnvSetupError, TaskCancelledError, TaskSerializationError,
  TaskUnschedulableError, WorkerCrashedError,
} from './errors.js';
import { encode, type Decoder } from './serialization.js';
import type { Reply, TaskFailure } from './protocol/messages.js';

/** The thrown value a failure carries, decoded (undefined when absent or undecodable). */
function causeOf(failure: TaskFailure, decoder: Decoder): unknown {
  try {
    return failure.cause ? decoder.decode(failure.cause) : undefined;
  } catch {
    return undefined;
  }
}

/** Ray's names for what `get` throws, from a task's failure. */
export function failureToError(failure: TaskFailure, taskName: string, decoder: Decoder): Error {
  switch (failure.type) {
    case 'APPLICATION':
      return new RayTaskError(taskName, failure.message, failure.stack ?? '', failure.errorName ?? 'Error', failure.nodeIp ?? '?', failure.pid ?? 0, causeOf(failure, decoder));
    case 'WORKER_DIED':
      // The memory monitor killed the worker: its message names the node, the memory and what to do.
      if (failure.errorName === 'OutOfMemoryError') return new OutOfMemoryError(failure.message);
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
      return new ActorDiedError(`${taskName}: ${failure.message}`, failure.actorId ?? '', failure.deathCause ?? '', causeOf(failure, decoder));
    case 'ACTOR_UNAVAILABLE':
      return new ActorUnavailableError(`${taskName}: ${failure.message}`, failure.actorId ?? '');
    case 'RUNTIME_ENV_SETUP_FAILED':
      return new RuntimeEnvSetupError(`${taskName} did not run: ${failure.message}`);
  }
}

/** Where a failure happened, shown with a RayTaskError. */
export interface FailureOrigin {
  nodeIp: string;
  pid: number;
}

/**
 * A thrown value as a task failure. With `origin` (a failure in a worker) the thrown value also
 * travels, encoded when it can be, so `get` gives the caller the same error as its `cause`.
 */
export function errorToFailure(type: TaskFailure['type'], err: unknown, origin?: FailureOrigin, withCause = true): TaskFailure {
  const e = err instanceof Error ? err : new Error(String(err));
  if (!origin) return { type, message: e.message, errorName: e.name, stack: e.stack };
  let cause: Uint8Array | undefined;
  if (withCause) {
    try {
      cause = encode(err, 'the error');
    } catch {
      cause = undefined;
    }
  }
  return { type, message: e.message, errorName: e.name, stack: e.stack ?? '', cause, nodeIp: origin.nodeIp, pid: origin.pid };
}

/** The error classes a raylet names in an error reply (`errorType`); any other becomes a RaytsError. */
const RAYLET_ERRORS = new Map<string, new (message: string) => Error>([
  ['ObjectLostError', ObjectLostError], ['ObjectStoreFullError', ObjectStoreFullError], ['OutOfDiskError', OutOfDiskError],
]);

/** An error reply of the raylet as the right error class. */
export function rayletError(reply: Pick<Reply, 'error' | 'errorType'>, what: string): Error {
  const message = `${what}: ${reply.error ?? 'failed'}`;
  const ErrorClass = RAYLET_ERRORS.get(reply.errorType ?? '') ?? RaytsError;
  return new ErrorClass(message);
}

/** The head has no such record (an actor, a named actor): gRPC's NOT_FOUND. */
export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}
