import type { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * Error classes shared by every package. Each carries the exit code the CLI uses and, where it
 * helps, a hint that tells the user what to do next.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  clusterUnreachable: 3,
} as const;

/**
 * The names of an error's classes, from its own up to RaytsError, stored on the instance under a
 * registry symbol: `instanceof` then holds across two copies of this module (a job's own
 * node_modules/rayts beside the cluster's, a test that reloads modules), as Temporal's
 * SymbolBasedInstanceOfError does. Class names are unique across the project's catalogues.
 */
const CLASS_NAMES = Symbol.for('rayts.errorClassNames');

function classNames(ctor: Function): string[] {
  const names: string[] = [];
  for (let c: Function | null = ctor; c && c !== Error && c !== Function.prototype; c = Object.getPrototypeOf(c) as Function | null) names.push(c.name);
  return names;
}

/** The base of every rayts error: a message, an optional hint with what to do, the CLI's exit code. */
export class RaytsError extends Error {
  readonly exitCode: number = ExitCode.failure;
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = new.target.name;
    Object.defineProperty(this, CLASS_NAMES, { value: classNames(new.target), enumerable: false });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const names = typeof value === 'object' && value !== null ? (value as { [CLASS_NAMES]?: unknown })[CLASS_NAMES] : undefined;
    return Array.isArray(names) && names.includes(this.name);
  }
}

/** A flag or argument the user gave is wrong (exit 2). */
export class UsageError extends RaytsError {
  override readonly exitCode = ExitCode.usage;
}

/** No cluster answers at the address (exit 3). */
export class ClusterUnreachableError extends RaytsError {
  override readonly exitCode = ExitCode.clusterUnreachable;
}

/** Nothing answered at all (gRPC UNAVAILABLE: refused, reset, dropped), as opposed to an answer that came too late. */
export class ConnectionUnavailableError extends ClusterUnreachableError {}

/** A call that needed the head waited for it past RAYTS_GCS_RECONNECT_TIMEOUT_S (the head did not come back). */
export class HeadUnavailableError extends ClusterUnreachableError {}

/** The cluster token is missing or wrong. */
export class AuthenticationError extends RaytsError {}

/** A node speaks a different protocol version than the head. */
export class VersionMismatchError extends RaytsError {}

/** A port the daemon must bind is already taken. */
export class PortInUseError extends RaytsError {}

/** The head's SQLite database is damaged or belongs to another cluster. */
export class StateCorruptError extends RaytsError {}

/** A daemon did not come up. */
export class DaemonStartError extends RaytsError {}

/** Another user's cluster on this host is out of this user's reach (its processes, its node's sockets). */
export class ClusterPermissionError extends RaytsError {}

/** Something about the local sessions (pid files, session dirs) is inconsistent. */
export class SessionError extends RaytsError {}

/** The object store cannot make room for an object, even after spilling and a bounded wait. */
export class ObjectStoreFullError extends RaytsError {}

/** Spilling needs disk space the spill directory's filesystem does not have (above 95 % use). */
export class OutOfDiskError extends RaytsError {}

/** A value cannot be serialized (a function, a symbol, …); the message names its type and where. */
export class SerializationError extends RaytsError {}

/** The head has no such thing (an actor by id or name, …). */
export class NotFoundError extends RaytsError {}

/** The head already has one (an actor name in a namespace, …). */
export class AlreadyExistsError extends RaytsError {}

/** The head refused a request as malformed; the message says which field. */
export class InvalidRequestError extends RaytsError {}

/** A runtime env (working_dir, env_vars, …) is malformed; `field` names the part that is wrong. */
export class RuntimeEnvError extends UsageError {
  constructor(readonly field: string, problem: string, hint?: string) {
    super(`runtime_env.${field}: ${problem}`, hint);
  }
}

/** A working_dir package is refused: its digest does not match its name, or an entry is unsafe (`../`, absolute, a link outside). */
export class PackageRejectedError extends InvalidRequestError {}

/** A working_dir package is over the head's size limit (the HTTP API answers 413). */
export class PackageTooLargeError extends RaytsError {
  constructor(readonly limitBytes: number, message: string, hint?: string) {
    super(message, hint);
  }
}

/**
 * A node does not have the resources a job's driver asks for free now (StartJobDriver answers
 * RESOURCE_EXHAUSTED): the head tries another node or waits.
 */
export class ResourcesUnavailableError extends RaytsError {}

/** Encoded task events (task_event_codec.ts) are truncated or do not follow the format; the message says where. */
export class TaskEventsFormatError extends RaytsError {}


/** Input given to a decoder is truncated, corrupt, or not an encoded value at all. */
export class CorruptValueError extends SerializationError {
  constructor(message: string, cause?: unknown) {
    super(message);
    if (cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: cause, writable: true, configurable: true });
    }
  }
}

/** Thrown by a gRPC handler: the status code and message the caller receives (grpc/server.ts sends them). */
export class RpcError extends RaytsError {
  constructor(readonly code: GrpcStatus, message: string) {
    super(message);
  }
}
