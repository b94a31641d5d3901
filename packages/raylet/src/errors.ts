/**
 * The raylet's errors. Those a local request can fail with travel back on the local socket as
 * `{ ok: false, error: message, errorType: name }`: the class names below are part of that wire
 * shape (the core worker turns them back into its own classes of the same name).
 */
import { RaytsError } from '@rayts/common';

/** A transfer over the raylets' raw side channel failed (refused, missing, cut short). */
export class ObjectTransferError extends RaytsError {}

/**
 * The object is gone: not on this node, its holder is dead or could not send it, or its spill file
 * is lost. The reader's owner decides what follows (rebuild it from lineage, or fail the get).
 */
export class ObjectLostError extends RaytsError {}

/** The owner of an object is not connected (any more), so nobody can say what became of it. */
export class OwnerDiedError extends RaytsError {}
