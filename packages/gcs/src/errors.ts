/** The head's errors: every class the gcs package throws on purpose. */
import { AlreadyExistsError, DaemonStartError, OutOfDiskError, UsageError } from '@rayts/common';

/**
 * The name is held by another live actor (in the namespace) or placement group. Services answer it
 * with ALREADY_EXISTS and this message, which clients turn back into AlreadyExistsError.
 */
export class NameTakenError extends AlreadyExistsError {}

/** A submission id that a job record already has. */
export class JobExistsError extends AlreadyExistsError {}

/** Only a finished job (STOPPED, SUCCEEDED, FAILED) can be deleted. */
export class JobNotTerminalError extends UsageError {}

/** No compiled better-sqlite3 loads in this Node (none built here, no prebuilt for its ABI). */
export class SqliteBindingError extends DaemonStartError {}

/**
 * The disk under the head's state dir is full: a change could not be written (and was not made).
 * Services answer it with RESOURCE_EXHAUSTED and this message (an OutOfDiskError, as the object
 * store's spilling says it).
 */
export class StateDiskFullError extends OutOfDiskError {}
