/**
 * The node's object table over the arena: create → write → seal; get pins, release unpins;
 * delete frees memory and spill data.
 *
 * Making room for a new (or restored) object, in order:
 *   1. evict unpinned copies that can be dropped without losing data, least recently used first:
 *      secondary copies (cached from other nodes) and primary copies whose bytes are already on disk;
 *   2. spill least recently used unpinned primary copies to the spill directory (fused into files of
 *      about `minSpillSize`) and free their memory;
 *   3. wait, up to `fullTimeoutMs`, for releases, deletes or seals that make 1 or 2 possible;
 *   4. throw ObjectStoreFullError (naming the object size and the capacity).
 * An object larger than the arena (or one 4 GiB arena segment) fails at once. A spill that would take
 * the spill filesystem over `diskCapacityThreshold` fails with OutOfDiskError, which the create that
 * needed it receives; the store stays usable.
 *
 * Independently of creation, once sealed primary copies that exist only in memory pass
 * `spillThreshold` of capacity, the least recently used unpinned ones are spilled in the background.
 * And while creates (or restores) have to make room, the store spills ahead of them in the background
 * (unless `spillThreshold` is 1): it writes the least recently used unpinned primaries to disk, keeping
 * them in memory, so that the next create of the same size can drop them at once (step 1) instead of
 * waiting for a write. Up to two spill writes run at once.
 */
import { ObjectStoreFullError, RaytsError, formatBytes, isHexId, nullLogger, type Logger } from '@rayts/common';
import { Allocator, ALIGNMENT, alignUp } from './allocator.js';
import { Arena } from './arena.js';
import { ObjectExistsError } from './errors.js';
import { ObjectTable, type Entry } from './object_table.js';
import { SpillManager } from './spill.js';
import { Spilling } from './spilling.js';
import {
  OBJECT_ID_BYTES, OBJECT_STORE_DEFAULTS, type CreateOptions, type CreatedObject, type ObjectStoreOptions, type ObjectStoreStats, type PinnedObject,
} from './store_api.js';

export class ObjectStore {
  readonly arena: Arena;
  readonly capacity: number;
  readonly spillThreshold: number;
  readonly minSpillSize: number;
  readonly maxFusedObjects: number;
  readonly fullTimeoutMs: number;
  /** Set when the arena had to leave /dev/shm: the caller should log it loudly. */
  readonly warning: string | undefined;

  private readonly ownsArena: boolean;
  private readonly allocator: Allocator;
  private readonly maxObjectSize: number;
  private readonly spiller: SpillManager | undefined;
  /** Present when spilling is on (a spill directory was given). */
  private readonly spilling: Spilling | undefined;
  private readonly log: Logger;
  private readonly onEvicted: ((id: string) => void) | undefined;
  private readonly onWaitingForSpace: (() => void) | undefined;

  private readonly table: ObjectTable;
  private readonly creating = new Set<string>();

  private evictedBytesTotal = 0;
  private evictedObjectsTotal = 0;
  private changeWaiters: (() => void)[] = [];
  private closed = false;

  constructor(opts: ObjectStoreOptions) {
    if (opts.arena) {
      this.arena = opts.arena;
      this.ownsArena = false;
    } else {
      if (opts.size === undefined) throw new RangeError('ObjectStore needs an arena or a size');
      this.arena = Arena.create({ size: opts.size, dir: opts.dir, prefault: opts.prefault ?? true });
      this.ownsArena = true;
    }
    this.warning = this.arena.warning;
    this.allocator = new Allocator(this.arena.size, this.arena.boundaries);
    this.table = new ObjectTable(this.allocator);
    this.capacity = this.allocator.capacity;
    this.maxObjectSize = Math.min(this.capacity, Math.floor(this.arena.segmentSize / ALIGNMENT) * ALIGNMENT);
    this.spillThreshold = opts.spillThreshold ?? OBJECT_STORE_DEFAULTS.spillThreshold;
    this.minSpillSize = Math.max(
      1,
      opts.minSpillSize ?? Math.min(OBJECT_STORE_DEFAULTS.minSpillSize, Math.floor(this.capacity / 10)),
    );
    this.maxFusedObjects = Math.max(1, opts.maxFusedObjects ?? OBJECT_STORE_DEFAULTS.maxFusedObjects);
    this.fullTimeoutMs = opts.fullTimeoutMs ?? OBJECT_STORE_DEFAULTS.fullTimeoutMs;
    this.log = opts.logger ?? nullLogger;
    this.spiller = opts.spillDir
      ? new SpillManager(opts.spillDir, {
          diskCapacityThreshold: opts.diskCapacityThreshold ?? OBJECT_STORE_DEFAULTS.diskCapacityThreshold,
        })
      : undefined;
    this.spilling = this.spiller
      ? new Spilling({
          table: this.table, spiller: this.spiller, arena: this.arena, allocator: this.allocator, log: this.log,
          capacity: this.capacity, spillThreshold: this.spillThreshold, minSpillSize: this.minSpillSize, maxFusedObjects: this.maxFusedObjects,
          allocateForRestore: (size, id) => this.allocate(size, id, 'restore'),
          notifyChange: () => this.notifyChange(),
          isClosed: () => this.closed,
        })
      : undefined;
    this.onEvicted = opts.onEvicted;
    this.onWaitingForSpace = opts.onWaitingForSpace;
    if (this.warning) this.log.warn(this.warning);
  }

  // --- public API ------------------------------------------------------------------------------

  /**
   * Allocates `size` bytes for a new object (64-byte aligned offset). Evicts, spills and waits as
   * described above when the store is full; throws ObjectStoreFullError, OutOfDiskError, or
   * ObjectExistsError.
   */
  async create(id: string, size: number, opts: CreateOptions = {}): Promise<CreatedObject> {
    this.checkOpen();
    checkId(id);
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`object size must be a non-negative integer, got ${size}`);
    if (this.table.has(id) || this.creating.has(id)) throw new ObjectExistsError(`object ${id} already exists in the object store`);
    this.creating.add(id);
    let offset: number;
    try {
      offset = await this.allocate(size, id);
    } finally {
      this.creating.delete(id);
    }
    if (this.closed) throw new RaytsError('the object store was closed');
    const e: Entry = {
      id, size, primary: opts.primary ?? true, sealed: false, offset, pins: 0, spill: undefined,
      spilling: false, restoring: undefined, deleted: false, indexed: false,
    };
    this.table.insert(e);
    return { id, offset, size, view: this.arena.view(offset, size) };
  }

  /** Makes a created object immutable and visible to get/contains. */
  seal(id: string): void {
    const e = this.table.get(id);
    if (!e) throw new RaytsError(`seal: object ${id} is not in the object store`);
    if (e.sealed) throw new RaytsError(`seal: object ${id} is already sealed`);
    this.table.update(e, () => (e.sealed = true));
    this.notifyChange();
    this.spilling?.maybeSpillInBackground();
  }

  /**
   * Pins a sealed object and returns a view of it, restoring it from disk if it was spilled (which
   * may have to make room like `create`). undefined when the object is unknown or not sealed yet.
   * Every successful get needs one `release(id)`.
   */
  async get(id: string): Promise<PinnedObject | undefined> {
    this.checkOpen();
    for (;;) {
      const e = this.table.get(id);
      if (!e || !e.sealed) return undefined;
      if (e.offset !== undefined) {
        this.table.update(e, () => (e.pins += 1));
        return { id, offset: e.offset, size: e.size, view: this.arena.view(e.offset, e.size) };
      }
      if (e.restoring) {
        // Someone else is restoring it: wait, then pin it like any in-memory object.
        await e.restoring;
        continue;
      }
      // Neither in memory nor being restored: only a spilled primary copy (spilling is on).
      const p = this.spilling!.restore(e);
      e.restoring = p;
      try {
        return await p;
      } finally {
        if (e.restoring === p) e.restoring = undefined;
      }
    }
  }

  /** Unpins an object `get` returned. */
  release(id: string): void {
    const zombie = this.table.releaseZombie(id);
    if (zombie) {
      if (zombie.last && !zombie.entry.spilling) this.table.freeMemory(zombie.entry);
      this.notifyChange();
      return;
    }
    const e = this.table.get(id);
    if (!e || e.pins <= 0) throw new RaytsError(`release: object ${id} is not pinned`);
    this.table.update(e, () => (e.pins -= 1));
    if (e.pins === 0) this.notifyChange();
  }

  /** True for a sealed object (in memory or spilled). */
  contains(id: string): boolean {
    return this.table.get(id)?.sealed ?? false;
  }

  /**
   * Removes an object (sealed or not), its memory and its spill data. Memory a reader still pins
   * is freed at its last release. Returns false for an unknown id.
   */
  delete(id: string): boolean {
    const e = this.table.get(id);
    if (!e) return false;
    this.table.remove(e);
    if (e.spill && !e.restoring) {
      this.spiller!.release(e.spill.file);
      e.spill = undefined;
    }
    if (e.pins > 0) {
      this.table.addZombie(e);
    } else if (!e.spilling && !e.restoring) {
      this.table.freeMemory(e);
    }
    // spilling: freed when the write ends; restoring: freed when the read ends.
    this.notifyChange();
    return true;
  }

  /** Where an object's bytes are on disk (after spilling), for `rayts memory` and tests. */
  spilledTo(id: string): { path: string; offset: number; size: number } | undefined {
    const loc = this.table.get(id)?.spill;
    return loc ? { path: loc.file.path, offset: loc.offset, size: loc.size } : undefined;
  }

  /** True when the object's bytes are in the arena now (false: unknown, or spilled and not restored). */
  inMemory(id: string): boolean {
    return this.table.get(id)?.offset !== undefined;
  }

  /** Ids of the objects in the table (sealed or not). */
  ids(): string[] {
    return this.table.ids();
  }

  stats(): ObjectStoreStats {
    const a = this.allocator.stats();
    const c = this.table.counters;
    return {
      capacity: this.capacity,
      used: a.used,
      free: a.free,
      largestFree: a.largestFree,
      numObjects: this.table.size,
      numUnsealed: c.numUnsealed,
      numPrimary: c.numPrimary,
      numSecondary: c.numSecondary,
      numPinned: c.numPinned,
      primaryBytes: c.primaryBytes,
      primaryUnspilledBytes: c.primaryUnspilledBytes,
      secondaryBytes: c.secondaryBytes,
      unsealedBytes: c.unsealedBytes,
      numSpilled: c.numSpilled,
      spilledBytes: c.spilledBytes,
      spillFiles: this.spiller?.fileCount ?? 0,
      spillFileBytes: this.spiller?.diskBytes ?? 0,
      spilledBytesTotal: 0,
      spilledObjectsTotal: 0,
      restoredBytesTotal: 0,
      restoredObjectsTotal: 0,
      lostObjectsTotal: 0,
      spillThroughputMiBps: 0,
      restoreThroughputMiBps: 0,
      lastSpillError: undefined,
      ...this.spilling?.stats(),
      evictedBytesTotal: this.evictedBytesTotal,
      evictedObjectsTotal: this.evictedObjectsTotal,
      spillDir: this.spiller?.dir,
    };
  }

  /**
   * Recomputes every counter and list from the table and checks the allocator (for tests and
   * debugging; O(objects)). Throws on the first inconsistency.
   */
  checkInvariants(): void {
    this.table.checkInvariants(this.spilling?.busy ?? false);
  }

  /** Resolves when no background or foreground spill is running. */
  async drain(): Promise<void> {
    await this.spilling?.drain();
  }

  /** Deletes every spill file, wakes waiters (their creates fail) and closes an arena it created. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notifyChange();
    await this.drain().catch(() => undefined);
    this.spiller?.removeAll();
    if (this.ownsArena) this.arena.close();
  }

  // --- making room (steps 1-4 of the header) ----------------------------------------------------

  private async allocate(size: number, id: string, what: 'create' | 'restore' = 'create'): Promise<number> {
    const need = Math.max(ALIGNMENT, alignUp(size));
    if (need > this.maxObjectSize) throw this.fullError(id, size, true, what);
    const deadline = Date.now() + this.fullTimeoutMs;
    let pressed = false;
    for (;;) {
      if (this.closed) throw new RaytsError('the object store was closed');
      const offset = this.allocator.alloc(size);
      if (offset !== undefined) {
        this.spilling?.noteAllocation(pressed ? need : 0);
        return offset;
      }
      pressed = true;
      if (this.evictOne()) continue;
      if (this.spilling && (await this.spilling.makeRoom(need))) continue;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.fullError(id, size, false, what);
      this.onWaitingForSpace?.();
      await this.waitForChange(remaining);
    }
  }

  /** Drops the least recently used droppable copy. false when there is none. */
  private evictOne(): boolean {
    const first = this.table.evictable.values().next();
    if (first.done) return false;
    const e = first.value;
    this.evictedBytesTotal += e.size;
    this.evictedObjectsTotal += 1;
    if (e.primary) {
      // Its bytes are on disk: drop the memory, keep the entry (a get restores it).
      this.table.update(e, () => this.table.freeMemory(e));
    } else {
      this.table.remove(e);
      this.table.freeMemory(e);
      this.onEvicted?.(e.id);
    }
    return true;
  }

  private fullError(id: string, size: number, never: boolean, what: 'create' | 'restore'): ObjectStoreFullError {
    const s = this.stats();
    const head = `Failed to ${what} object ${id} of ${size} bytes (${formatBytes(size)}) in the object store of ${this.capacity} bytes (${formatBytes(this.capacity)})`;
    if (never) {
      return new ObjectStoreFullError(
        `${head}: the object is larger than the whole store${this.maxObjectSize < this.capacity ? ` (at most ${formatBytes(this.maxObjectSize)} per object)` : ''}.`,
        'start the node with a larger --object-store-memory',
      );
    }
    return new ObjectStoreFullError(
      `${head}: the store is full of objects that are in use and cannot be evicted or spilled ` +
        `(${formatBytes(s.used)} used, ${s.numPinned} pinned, ${formatBytes(s.unsealedBytes)} unsealed, ` +
        `largest free block ${formatBytes(s.largestFree)}; waited ${this.fullTimeoutMs} ms).`,
      '`rayts memory` lists the objects still referenced; release or free some, or give the node more --object-store-memory',
    );
  }

  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.changeWaiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  private notifyChange(): void {
    if (this.changeWaiters.length === 0) return;
    const ws = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of ws) w();
  }

  private checkOpen(): void {
    if (this.closed) throw new RaytsError('the object store is closed');
  }
}

function checkId(id: string): void {
  if (typeof id !== 'string' || !isHexId(id, OBJECT_ID_BYTES)) {
    throw new TypeError(`object id must be ${OBJECT_ID_BYTES * 2} lowercase hex characters, got ${JSON.stringify(id)}`);
  }
}
