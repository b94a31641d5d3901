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

export class RaytsError extends Error {
  readonly exitCode: number = ExitCode.failure;
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = new.target.name;
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
