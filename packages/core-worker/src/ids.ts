/**
 * Task and object ids: 28 bytes (56 hex) like Ray's. Minted by a counter under a random per-process
 * prefix, so making one costs no syscall and no randomness on the hot path.
 */
import { randomBytes } from 'node:crypto';

const PREFIX = randomBytes(16).toString('hex'); // 32 hex
const HEX = '0123456789abcdef';
/** An id's characters: the prefix, 2 of kind, 22 of counter (56, one byte each); rewritten per id. */
const scratch = Buffer.from(`${PREFIX}${'0'.repeat(24)}`, 'latin1');
let counter = 0;

/**
 * 32 hex prefix + 2 hex kind + 22 hex counter = 56 hex. Written into a scratch buffer and read out
 * as one flat string: an owner keeps two ids per task in flight, and one built by concatenation is
 * a tree of several string objects (about twice the memory).
 */
function next(kind: string): string {
  counter += 1;
  scratch.write(kind, 32, 'latin1');
  // The counter only grows: digits above its highest one are zeros from the start.
  for (let n = counter, pos = 55; n > 0; pos--) {
    scratch[pos] = HEX.charCodeAt(n % 16);
    n = Math.floor(n / 16);
  }
  return scratch.toString('latin1', 0, 56);
}

export const newTaskId = (): string => next('01');
export const newObjectId = (): string => next('02');
export const newPutId = (): string => next('03');

/** The task id of an actor's creation (Ray derives it from the actor id too): its creator and its host agree on it. */
export const actorCreationTaskId = (actorId: string): string => `${actorId}04${'0'.repeat(22)}`;
