/**
 * Every error class of the core worker. Those a driver sees from `get` have Ray's names;
 * RayTaskError wraps what a task threw and carries the remote stack, the task's name, node and pid.
 */
import { RaytsError } from '@rayts/common';
import type { TaskFailure } from './protocol/messages.js';

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
/** A method the actor's class does not have: the call fails at once with a clear message. */
export class ActorMethodNotFoundError extends RaytsError {}

/** A function or class that cannot be shipped by source (native, bound, unparseable, wrong kind). */
export class RemoteSourceError extends RaytsError {}

/** A function or class that uses variables from outside itself, which do not travel with it. */
export class ClosureError extends RaytsError {
  constructor(
    message: string,
    /** The remote function or class. */
    readonly functionName: string,
    /** Every free variable, in order of first use. */
    readonly variables: readonly string[],
  ) {
    super(message);
  }
}

/** An `import()` in shipped code that does not resolve against the job's working directory. */
export class ModuleResolutionError extends RaytsError {
  constructor(
    message: string,
    readonly specifier: string,
    readonly jobDir: string,
  ) {
    super(message);
  }
}

/**
 * A node could not prepare the job's runtime env (Ray's RuntimeEnvSetupError): the working_dir package
 * could not be fetched or unpacked, `npm ci` failed (then `npmExitCode` and an excerpt of its output, `npmOutput`, are
 * set), or the setup took longer than RAYTS_JOB_RUNTIME_ENV_SETUP_TIMEOUT_S. Tasks of the job fail with
 * it; an actor's creation fails with it as the cause.
 */
export class RuntimeEnvSetupError extends RaytsError {
  constructor(message: string, readonly npmExitCode?: number, readonly npmOutput?: string, hint?: string) {
    super(message, hint);
  }
}

/** A placement group request or target that cannot work as given (the message says why and what to do). */
export class InvalidPlacementGroupError extends RaytsError {}
/** A task or actor asked for resources no node could give as asked (e.g. 1.5 GPUs: above 1, GPUs are whole). */
export class InvalidResourceRequestError extends RaytsError {}
/**
 * A task's argument is the ref of an object whose task failed: the task is not run, and `get` of
 * its result raises that failure (carried as the wire form, so it keeps its type and cause).
 */
export class DependencyFailedError extends RaytsError {
  constructor(message: string, readonly failure: TaskFailure) {
    super(message);
  }
}
