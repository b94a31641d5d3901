/**
 * The raylet's errors. Those a local request can fail with travel back on the local socket as
 * `{ ok: false, error: message, errorType: name }`: the class names below are part of that wire
 * shape (the core worker turns them back into its own classes of the same name).
 */
import { RaytsError } from '@rayts/common';

/** A transfer over the raylets' raw side channel failed (refused, missing, cut short). */
export class ObjectTransferError extends RaytsError {}

/** The holder's raylet could not be reached or its connection broke (refused, reset, unreachable): the node may be gone. */
export class ObjectHolderUnreachableError extends ObjectTransferError {}

/**
 * The object is gone: not on this node, its holder is dead or could not send it, or its spill file
 * is lost. The reader's owner decides what follows (rebuild it from lineage, or fail the get).
 */
export class ObjectLostError extends RaytsError {}

/** The owner of an object is not connected (any more), so nobody can say what became of it. */
export class OwnerDiedError extends RaytsError {}

/**
 * A job's runtime env could not be prepared on this node (package download or unpack, `npm ci`,
 * timeout). One class with the core worker's, which raises it from `get` (class names are unique
 * across the project), so it is the core worker's class, carried here.
 */
export { RuntimeEnvSetupError } from '@rayts/core-worker';

/** StartJobDriver: the node does not have the driver's resources free now (gRPC RESOURCE_EXHAUSTED). */
export { ResourcesUnavailableError } from '@rayts/common';

/** RAYTS_MEMORY_USAGE_THRESHOLD or RAYTS_MEMORY_MONITOR_REFRESH_MS is out of range: the raylet does not start. */
export class MemoryMonitorConfigError extends RaytsError {}
