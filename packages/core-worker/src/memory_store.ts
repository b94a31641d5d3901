/**
 * The owner's view of its objects: pending until the task that makes it finishes, then either a
 * small value held inline here, a location in some node's object store, or a failure. `wait`/`get`
 * subscribe to entries; nothing polls.
 */
import type { ReturnValue, TaskFailure } from './protocol/messages.js';

export type EntryState =
  | { status: 'pending' }
  | { status: 'ready'; value: ReturnValue }
  | { status: 'failed'; failure: TaskFailure; taskName: string };

interface Entry {
  state: EntryState;
  /**
   * Who waits for it to settle: most entries never have anyone, and most of the rest one (a `get`
   * of many refs waits on each), kept without an array (an owner may have a million in flight).
   */
  waiters: (() => void) | Array<() => void> | undefined;
  /** Completion order, for `wait`. */
  readyAt: number;
}

/** The state of every pending entry (one object: an owner may have a million tasks in flight). */
const PENDING: EntryState = Object.freeze({ status: 'pending' });

/** Slabs for the copies of small inline values (Node's pool is 8 KiB too). */
const SLAB_BYTES = 8 * 1024;
/** Values above this get a buffer of their own. */
const SLAB_VALUE_MAX = 512;

/**
 * Copies of the small inline values the store keeps, packed into slabs that hold nothing else. Not
 * Node's shared buffer pool: there, every short-lived buffer of the process (frame headers, socket
 * writes) shares the slabs with the values, and a slab lives as long as any value in it, so a
 * million kept results held ~135 bytes of slab each for 33-byte values. A slab here is freed once
 * every value in it is.
 */
class InlineCopies {
  private slab = new ArrayBuffer(0);
  private used = 0;

  copy(data: Uint8Array): Uint8Array {
    const n = data.byteLength;
    if (n > SLAB_VALUE_MAX) return new Uint8Array(data);
    const aligned = (n + 7) & ~7;
    if (this.used + aligned > this.slab.byteLength) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      this.used = 0;
    }
    const view = new Uint8Array(this.slab, this.used, n);
    view.set(data);
    this.used += aligned;
    return view;
  }
}

/**
 * The entry of every pending object nobody waits for yet, shared: most of an owner's objects in
 * flight never have a waiter, and an entry object each would cost ~48 bytes a task. Never mutated:
 * the store puts an entry of the object's own in its place before changing anything.
 */
const PENDING_ENTRY: Entry = Object.freeze({ state: PENDING, waiters: undefined, readyAt: 0 }) as Entry;

function addWaiter(entry: Entry, callback: () => void): void {
  const w = entry.waiters;
  if (w === undefined) entry.waiters = callback;
  else if (typeof w === 'function') entry.waiters = [w, callback];
  else w.push(callback);
}

export class MemoryStore {
  private readonly entries = new Map<string, Entry>();
  private readonly copies = new InlineCopies();
  private sequence = 0;

  addPending(id: string): void {
    if (!this.entries.has(id)) this.entries.set(id, PENDING_ENTRY);
  }

  resolve(id: string, settled: Exclude<EntryState, { status: 'pending' }>): void {
    const state = this.owned(settled);
    const entry = this.ownEntry(id, this.entries.get(id), state);
    entry.state = state;
    entry.readyAt = ++this.sequence;
    const waiters = entry.waiters;
    if (!waiters) return;
    entry.waiters = undefined;
    if (typeof waiters === 'function') waiters();
    else for (const w of waiters) w();
  }

  /** Back to pending (a retry of the task that makes it is under way). */
  reset(id: string): void {
    const entry = this.entries.get(id);
    if (entry && entry !== PENDING_ENTRY) entry.state = PENDING;
  }

  get(id: string): EntryState | undefined {
    return this.entries.get(id)?.state;
  }

  readyOrder(id: string): number {
    return this.entries.get(id)?.readyAt ?? 0;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Resolves when the entry is no longer pending (immediately if it is not). */
  whenSettled(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.state.status !== 'pending') return Promise.resolve();
    return new Promise((resolve) => addWaiter(this.ownEntry(id, entry, PENDING), resolve));
  }

  /** Calls `callback` once the entry is no longer pending (now if it is not); the same callback may wait on many entries. */
  onSettled(id: string, callback: () => void): void {
    const entry = this.entries.get(id);
    if (!entry || entry.state.status !== 'pending') callback();
    else addWaiter(this.ownEntry(id, entry, PENDING), callback);
  }

  /**
   * A settled state the store may keep for long: an inline value that is a view into a larger buffer
   * (deserializing a message makes its typed arrays views into the whole received chunk) is copied
   * out, so that a million small results do not keep every chunk they arrived in alive (~300 bytes
   * each).
   */
  private owned(state: Exclude<EntryState, { status: 'pending' }>): Exclude<EntryState, { status: 'pending' }> {
    if (state.status !== 'ready' || state.value.kind !== 'inline') return state;
    const data = state.value.data;
    if (data.byteLength === data.buffer.byteLength) return state;
    return { status: 'ready', value: { kind: 'inline', data: this.copies.copy(data) } };
  }

  /** `id`'s entry (`found`, as looked up by the caller) made its own: the shared pending entry, or none, is replaced by a new one in `state`. */
  private ownEntry(id: string, found: Entry | undefined, state: EntryState): Entry {
    if (found && found !== PENDING_ENTRY) return found;
    const entry: Entry = { state, waiters: undefined, readyAt: 0 };
    this.entries.set(id, entry);
    return entry;
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }
}
