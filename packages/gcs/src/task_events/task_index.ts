/**
 * The TaskEventStore's index from task id to the slot of one of its attempts (the others are linked
 * from it, see the store): an open-addressing hash table in an Int32Array over the task ids that
 * AttemptColumns keeps as bytes. A report's task id is found straight from the bytes of its batch,
 * without making a string of it, and the index makes no object per task (a Map keyed by each task's
 * id string cost the head more than the rest of storing an attempt: the string, the hashing of a new
 * string, the entry, and their garbage collection once old).
 *
 * Linear probing; removal shifts the following entries back (no tombstones), so the table never
 * needs a rebuild. It holds at most `capacity` tasks and is sized to stay at most half full.
 */
import { TASK_ID_CHARS, type AttemptColumns } from './attempt_columns.js';

/** A hash of a task id's characters (`at`.. in `bytes`, or a string): identical for the same id either way. */
export function hashTaskIdBytes(bytes: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + TASK_ID_CHARS; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

export function hashTaskIdString(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < TASK_ID_CHARS; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class TaskIndex {
  /** slot + 1 per entry; 0 = empty. */
  private readonly table: Int32Array;
  private readonly mask: number;
  /** The hash of each filed slot's task id (moving entries back on a removal needs them). */
  private readonly hashes: Uint32Array;

  constructor(private readonly cols: AttemptColumns, capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    this.hashes = new Uint32Array(capacity);
  }

  /** The slot filed under the task id at `at` in `bytes` (whose hash is `hash`), or -1. */
  findBytes(hash: number, bytes: Uint8Array, at: number): number {
    const { table, mask, cols } = this;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const e = table[i]!;
      if (e === 0) return -1;
      if (cols.sameTaskIdBytes(e - 1, bytes, at)) return e - 1;
    }
  }

  /** The slot filed under `taskId`, or -1 (ids of another length name no task here). */
  findString(taskId: string): number {
    if (taskId.length !== TASK_ID_CHARS) return -1;
    const { table, mask, cols } = this;
    for (let i = hashTaskIdString(taskId) & mask; ; i = (i + 1) & mask) {
      const e = table[i]!;
      if (e === 0) return -1;
      if (cols.sameTaskIdString(e - 1, taskId)) return e - 1;
    }
  }

  /** A newly opened slot's task id has this hash (every slot's, filed or linked from the filed one). */
  remember(slot: number, hash: number): void {
    this.hashes[slot] = hash;
  }

  /** Files `slot` (remembered) under its task id, which has no entry yet. */
  insert(slot: number): void {
    const { table, mask } = this;
    let i = this.home(slot);
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = slot + 1;
  }

  /** Files `next` (an attempt of the same task) where `slot` was. */
  replace(slot: number, next: number): void {
    this.table[this.position(slot)] = next + 1;
  }


  /** Removes `slot`'s entry. */
  remove(slot: number): void {
    const { table, mask } = this;
    let hole = this.position(slot);
    table[hole] = 0;
    // Entries after the hole that could not sit at their home because it was taken move back.
    for (let i = (hole + 1) & mask; table[i] !== 0; i = (i + 1) & mask) {
      const home = this.home(table[i]! - 1);
      // Does home lie cyclically outside (hole, i]? Then the entry may fill the hole.
      if ((i - home & mask) >= (i - hole & mask)) {
        table[hole] = table[i]!;
        table[i] = 0;
        hole = i;
      }
    }
  }

  private home(slot: number): number {
    return this.hashes[slot]! & this.mask;
  }

  private position(slot: number): number {
    const { table, mask } = this;
    for (let i = this.home(slot); ; i = (i + 1) & mask) {
      if (table[i] === slot + 1) return i;
      if (table[i] === 0) throw new Error(`the task index has no entry for slot ${slot}: a bug`);
    }
  }
}
