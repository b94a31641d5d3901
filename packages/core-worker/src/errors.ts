/**
 * Errors a driver sees from `get`, with Ray's names (DESIGN §3). RayTaskError wraps what a task
 * threw and carries the remote stack, the task's name, node and pid.
 */
import { RaytsError } from '@rayts/common';

export class RayTaskError extends RaytsError {
  constructor(
    readonly taskName: string,
    readonly remoteMessage: string,
    readonly remoteStack: string,
    readonly remoteErrorName: string,
    readonly nodeIp: string,
    readonly pid: number,
    override readonly cause?: unknown,
  ) {
    super(`${remoteErrorName}: ${remoteMessage}\n  in task ${taskName} (pid=${pid}, ip=${nodeIp})\n${indent(remoteStack)}`);
  }
}

function indent(text: string): string {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}

/** The worker process running the task died (crash, exit, SIGKILL) and no retries were left. */
export class WorkerCrashedError extends RaytsError {}
/** The node running the task died and no retries were left. */
export class NodeDiedError extends RaytsError {}
/** `get` did not finish within its timeout. */
export class GetTimeoutError extends RaytsError {}
/** The object's value is gone and cannot be rebuilt (e.g. a lost `put` object). */
export class ObjectLostError extends RaytsError {}
/** The process that owned the object is gone (Ray does not recover from owner failure). */
export class OwnerDiedError extends RaytsError {}
/** The task was cancelled with `ray.cancel`. */
export class TaskCancelledError extends RaytsError {}
/** No node can ever satisfy the task's placement constraints (e.g. hard node affinity to a dead node). */
export class TaskUnschedulableError extends RaytsError {}
/** The task's return value (or an argument) could not be serialized. */
export class TaskSerializationError extends RaytsError {}
/** A node ran out of memory and the memory monitor killed the task's worker. */
export class OutOfMemoryError extends RaytsError {}
/**
 * The actor is dead and will not come back: killed, its process or node died with no restarts left,
 * its owner exited, or its constructor failed (then `cause` is the constructor's RayTaskError).
 */
export class ActorDiedError extends RaytsError {
  constructor(message: string, readonly actorId: string, readonly deathCause: string, override readonly cause?: unknown) {
    super(message);
  }
}
/** The actor is restarting (or unreachable for now); a later call may succeed. */
export class ActorUnavailableError extends RaytsError {
  constructor(message: string, readonly actorId: string) {
    super(message);
  }
}
/** A handle has `maxPendingCalls` calls in flight already. */
export class PendingCallsLimitExceededError extends RaytsError {}
