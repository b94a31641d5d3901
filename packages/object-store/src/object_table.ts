/**
 * The object table: every entry the store knows, the counters `stats()` reports and the two LRU
 * lists that making room draws from. An entry's state decides, through `bucketsOf`, which counters
 * it adds to and which list (if any) it sits in; every state change goes through `update`, which
 * takes the entry out of its buckets, changes it and puts it back, so counters and lists can never
 * drift from the entries.
 */
import { ALIGNMENT, alignUp, type Allocator } from './allocator.js';
import type { SpillLocation } from './spill.js';
import type { PinnedObject } from './store_api.js';

/**
 * One object. The states that matter and their invariants:
 * - unsealed: being written; always in memory (`offset` set), never spilled;
 * - sealed primary: in memory, on disk (`spill` set), or both; never neither unless a restore is running;
 * - sealed secondary: a cached copy of an object owned elsewhere; always in memory, never spilled;
 * - deleted: out of the table; its memory waits for the last release (zombie), spill write or restore.
 */
export interface Entry {
  readonly id: string;
  readonly size: number;
  readonly primary: boolean;
  sealed: boolean;
  /** Arena offset while the bytes are in memory. */
  offset: number | undefined;
  pins: number;
  spill: SpillLocation | undefined;
  /** A spill write is reading this object's memory. */
  spilling: boolean;
  restoring: Promise<PinnedObject | undefined> | undefined;
  deleted: boolean;
  /** The entry is counted in the counters and lists its state puts it in (see `ObjectTable.update`). */
  indexed: boolean;
}

/** What the table counts over its indexed entries (zombies add to `numPinned` too). */
export interface Counters {
  numPinned: number;
  numSpilled: number;
  spilledBytes: number;
  numUnsealed: number;
  unsealedBytes: number;
  numPrimary: number;
  numSecondary: number;
  /** Sealed primary copies in memory. */
  primaryBytes: number;
  /** Sealed primary copies in memory and nowhere else. */
  primaryUnspilledBytes: number;
  secondaryBytes: number;
  /** In memory and droppable without a write (the `evictable` list's bytes). */
  evictableBytes: number;
}

export function zeroCounters(): Counters {
  return {
    numPinned: 0, numSpilled: 0, spilledBytes: 0, numUnsealed: 0, unsealedBytes: 0,
    numPrimary: 0, numSecondary: 0, primaryBytes: 0, primaryUnspilledBytes: 0, secondaryBytes: 0, evictableBytes: 0,
  };
}

/**
 * `evictable`: droppable without data loss (secondary copies, primaries already on disk).
 * `spillable`: primary copies that exist only in memory.
 */
export type LruList = 'evictable' | 'spillable';

export interface Buckets {
  counters: Partial<Counters>;
  /** Only sealed, in-memory, unpinned entries that no spill write is reading are in a list. */
  list: LruList | undefined;
}

/** The counters an entry adds to, and the LRU list it belongs in, given its state. */
export function bucketsOf(e: Entry): Buckets {
  const c: Partial<Counters> = {};
  const inMemory = e.offset !== undefined;
  if (e.pins > 0) c.numPinned = 1;
  if (e.spill) {
    c.numSpilled = 1;
    c.spilledBytes = e.size;
  }
  if (!e.sealed) {
    c.numUnsealed = 1;
    c.unsealedBytes = e.size;
    return { counters: c, list: undefined };
  }
  if (e.primary) {
    c.numPrimary = 1;
    if (inMemory) {
      c.primaryBytes = e.size;
      if (!e.spill) c.primaryUnspilledBytes = e.size;
    }
  } else {
    c.numSecondary = 1;
    if (inMemory) c.secondaryBytes = e.size;
  }
  const listed = inMemory && e.pins === 0 && !e.spilling;
  const list = !listed ? undefined : !e.primary || e.spill ? 'evictable' : 'spillable';
  if (list === 'evictable') c.evictableBytes = e.size;
  return { counters: c, list };
}

function addCounters(into: Counters, add: Partial<Counters>, sign: 1 | -1): void {
  for (const [k, v] of Object.entries(add) as [keyof Counters, number][]) into[k] += sign * v;
}

export class ObjectTable {
  readonly counters: Counters = zeroCounters();
  /** LRU (oldest first): in memory, sealed, unpinned, droppable without data loss. */
  readonly evictable = new Map<string, Entry>();
  /** LRU (oldest first): in memory, sealed, unpinned primary copies not on disk. */
  readonly spillable = new Map<string, Entry>();
  private readonly entries = new Map<string, Entry>();
  /** Deleted while pinned: memory is freed at the last release. */
  private readonly zombies = new Map<string, Entry[]>();

  constructor(private readonly allocator: Allocator) {}

  get size(): number {
    return this.entries.size;
  }

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  insert(e: Entry): void {
    this.entries.set(e.id, e);
    this.index(e);
  }

  /** Changes an entry's state; it moves to the most recently used end of its list. */
  update(e: Entry, change: (e: Entry) => void): void {
    this.unindex(e);
    change(e);
    this.index(e);
  }

  /** Takes an entry out of the table (its memory and spill data are the caller's to free). */
  remove(e: Entry): void {
    this.entries.delete(e.id);
    this.unindex(e);
    e.deleted = true;
  }

  /** Keeps a deleted but pinned entry until its last release. */
  addZombie(e: Entry): void {
    const list = this.zombies.get(e.id);
    if (list) list.push(e);
    else this.zombies.set(e.id, [e]);
    this.counters.numPinned += 1;
  }

  /**
   * Unpins the oldest zombie of `id`: undefined when there is none, else whether it was its last pin
   * (it is then forgotten, and its memory is the caller's to free).
   */
  releaseZombie(id: string): { entry: Entry; last: boolean } | undefined {
    const list = this.zombies.get(id);
    if (!list) return undefined;
    const z = list[0]!;
    z.pins -= 1;
    if (z.pins > 0) return { entry: z, last: false };
    list.shift();
    if (list.length === 0) this.zombies.delete(id);
    this.counters.numPinned -= 1;
    return { entry: z, last: true };
  }

  freeMemory(e: Entry): void {
    if (e.offset === undefined) return;
    this.allocator.free(e.offset);
    e.offset = undefined;
  }

  /**
   * Recomputes every counter and list from the entries and checks them against the table's (for
   * tests and debugging; O(objects)). `busy`: a spill or restore is in flight, so allocations may
   * belong to objects not yet in memory. Throws on the first inconsistency.
   */
  checkInvariants(busy: boolean): void {
    this.allocator.checkInvariants();
    const expected = zeroCounters();
    let allocated = 0;
    const live = new Map<string, number>();
    for (const [id, e] of this.entries) {
      if (e.id !== id || e.deleted || !e.indexed) throw new Error(`object table: bad entry ${id}`);
      checkEntryState(e);
      if (e.offset !== undefined) {
        if (this.allocator.sizeOf(e.offset) !== Math.max(ALIGNMENT, alignUp(e.size))) throw new Error(`object ${id}: allocation does not match`);
        allocated++;
      }
      if (e.spill) live.set(e.spill.file.path, (live.get(e.spill.file.path) ?? 0) + 1);
      const b = bucketsOf(e);
      addCounters(expected, b.counters, 1);
      if (this.evictable.has(id) !== (b.list === 'evictable')) throw new Error(`object ${id}: evictable list is wrong`);
      if (this.spillable.has(id) !== (b.list === 'spillable')) throw new Error(`object ${id}: spillable list is wrong`);
    }
    for (const list of this.zombies.values()) {
      for (const z of list) {
        expected.numPinned++;
        if (z.offset !== undefined) allocated++;
      }
    }
    for (const k of Object.keys(expected) as (keyof Counters)[]) {
      if (this.counters[k] !== expected[k]) throw new Error(`object store counter ${k} is ${this.counters[k]}, expected ${expected[k]}`);
    }
    if (allocated !== this.allocator.allocations && !busy) {
      throw new Error(`object store: ${this.allocator.allocations} allocations but ${allocated} objects in memory`);
    }
    for (const [path, n] of live) {
      const f = [...this.entries.values()].find((e) => e.spill?.file.path === path)!.spill!.file;
      if (f.live < n) throw new Error(`spill file ${path}: live count ${f.live} below its ${n} objects`);
    }
  }

  /** Adds the entry to the counters and LRU list its state puts it in (at the MRU end). */
  private index(e: Entry): void {
    if (e.indexed || e.deleted) return;
    e.indexed = true;
    const b = bucketsOf(e);
    addCounters(this.counters, b.counters, 1);
    if (b.list) this[b.list].set(e.id, e);
  }

  private unindex(e: Entry): void {
    if (!e.indexed) return;
    e.indexed = false;
    addCounters(this.counters, bucketsOf(e).counters, -1);
    this.evictable.delete(e.id);
    this.spillable.delete(e.id);
  }
}

/** The entry is in one of the states `Entry` allows. */
function checkEntryState(e: Entry): void {
  const inMemory = e.offset !== undefined;
  if (!e.sealed) {
    if (!inMemory) throw new Error(`object ${e.id}: unsealed but not in memory`);
  } else if (e.primary) {
    if (!inMemory && !e.spill && !e.restoring) throw new Error(`object ${e.id}: neither in memory nor spilled`);
  } else if (!inMemory) {
    throw new Error(`object ${e.id}: secondary copy not in memory`);
  }
}
