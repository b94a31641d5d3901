/**
 * Task and object ids: 28 bytes (56 hex) like Ray's. Minted by a counter under a random per-process
 * prefix, so making one costs no syscall and no randomness on the hot path.
 */
import { randomBytes } from 'node:crypto';

const PREFIX = randomBytes(16).toString('hex'); // 32 hex
let counter = 0;

function next(kind: string): string {
  counter += 1;
  // 32 hex prefix + 2 hex kind + 22 hex counter = 56 hex.
  return `${PREFIX}${kind}${counter.toString(16).padStart(22, '0')}`;
}

export const newTaskId = (): string => next('01');
export const newObjectId = (): string => next('02');
export const newPutId = (): string => next('03');

/** The task id of an actor's creation (Ray derives it from the actor id too): its creator and its host agree on it. */
export const actorCreationTaskId = (actorId: string): string => `${actorId}04${'0'.repeat(22)}`;
