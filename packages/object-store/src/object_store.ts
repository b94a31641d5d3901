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
 */
import { ObjectStoreFullError, RaytsError, formatBytes, isHexId, nullLogger, type Logger } from '@rayts/common';
import { Allocator, ALIGNMENT, alignUp } from './allocator.js';
import { Arena } from './arena.js';
import { SpillFileDamagedError, SpillManager, type SpillLocation } from './spill.js';

export const OBJECT_ID_BYTES = 28;
const MiB = 1024 * 1024;

export const OBJECT_STORE_DEFAULTS = {
  spillThreshold: 0.8,
  /** Fused spill files aim for this many bytes (capped at a tenth of the store when not given). */
  minSpillSize: 100 * MiB,
  maxFusedObjects: 2000,
  diskCapacityThreshold: 0.95,
  fullTimeoutMs: 3000,
} as const;

export interface ObjectStoreOptions {
  /** An arena someone else created (the raylet). The store does not close it. */
  arena?: Arena;
  /** Otherwise the store creates (and owns) an arena of this many bytes… */
  size?: number;
  /** …in this directory (default /dev/shm, falling back to the temp dir with a warning)… */
  dir?: string;
  /** …touching every page once at start (default true). */
  prefault?: boolean;
  /** Where spilled objects go (e.g. `<session>/spill`). Without it spilling is off. */
  spillDir?: string;
  /** Spill in the background once sealed in-memory-only primary copies pass this share of capacity. */
  spillThreshold?: number;
  /** Bytes a fused spill file aims for. Default min(100 MiB, capacity / 10). */
  minSpillSize?: number;
  /** Most objects fused into one spill file. */
  maxFusedObjects?: number;
  /** Spilling fails with OutOfDiskError above this share of the spill filesystem in use (1 = off). */
  diskCapacityThreshold?: number;
  /** How long a create (or restore) waits for space before ObjectStoreFullError. */
  fullTimeoutMs?: number;
  logger?: Logger;
  /** Called when a secondary copy is evicted (the object manager forgets this location). */
  onEvicted?: (id: string) => void;
}

export interface CreateOptions {
  /** true (default): the primary copy, spilled when memory is short. false: a cached secondary copy, evicted first. */
  primary?: boolean;
}

export interface CreatedObject {
  id: string;
  offset: number;
  size: number;
  /** Write the object's bytes here, then `seal(id)`. */
  view: Uint8Array;
}

export interface PinnedObject {
  id: string;
  offset: number;
  size: number;
  /** Valid until `release(id)`; do not keep it after that. */
  view: Uint8Array;
}

export interface ObjectStoreStats {
  capacity: number;
  /** Bytes allocated in the arena (64-byte rounded, including unsealed and pinned-but-deleted objects). */
  used: number;
  free: number;
  largestFree: number;
  numObjects: number;
  numUnsealed: number;
  numPrimary: number;
  numSecondary: number;
  numPinned: number;
  /** Sealed primary copies in memory (whether or not also spilled). */
  primaryBytes: number;
  /** Sealed primary copies in memory that exist nowhere else: what the spill threshold looks at. */
  primaryUnspilledBytes: number;
  secondaryBytes: number;
  unsealedBytes: number;
  /** Objects whose bytes are on disk now (in memory too after a restore). */
  numSpilled: number;
  spilledBytes: number;
  spillFiles: number;
  spillFileBytes: number;
  /** Totals since start. */
  spilledBytesTotal: number;
  spilledObjectsTotal: number;
  restoredBytesTotal: number;
  restoredObjectsTotal: number;
  evictedBytesTotal: number;
  evictedObjectsTotal: number;
  /** Spilled objects dropped because their spill file was missing or damaged at restore. */
  lostObjectsTotal: number;
  spillThroughputMiBps: number;
  restoreThroughputMiBps: number;
  spillDir: string | undefined;
  /** The last background spill failure (e.g. OutOfDiskError), cleared by a successful spill. */
  lastSpillError: string | undefined;
}

/** An object with this id already exists (or is being created). */
export class ObjectExistsError extends RaytsError {}

/**
 * A spilled object's only copy (its spill file) is missing or damaged. The store has dropped the
 * object, so the id can be created again (a task re-run by lineage writes it anew).
 */
export class SpilledObjectLostError extends RaytsError {
  constructor(readonly objectId: string, readonly size: number, readonly spillPath: string, readonly problem: string) {
    super(`object ${objectId} (${formatBytes(size)}) was spilled to ${spillPath}, but that file ${problem}; ` +
      'the object store held no other copy, so the object is lost');
  }
}

interface Entry {
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
  /** Which counters/LRU lists the entry is in (kept in step by index/unindex). */
  indexed: boolean;
}

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
  private readonly log: Logger;
  private readonly onEvicted: ((id: string) => void) | undefined;

  private readonly table = new Map<string, Entry>();
  private readonly creating = new Set<string>();
  /** Deleted while pinned: memory is freed at the last release. */
  private readonly zombies = new Map<string, Entry[]>();
  /** LRU (oldest first): in memory, sealed, unpinned, droppable without data loss. */
  private readonly evictable = new Map<string, Entry>();
  /** LRU (oldest first): in memory, sealed, unpinned primary copies not on disk. */
  private readonly spillable = new Map<string, Entry>();

  private primaryBytes = 0;
  private primaryUnspilledBytes = 0;
  private secondaryBytes = 0;
  private unsealedBytes = 0;
  private numPrimary = 0;
  private numSecondary = 0;
  private numUnsealed = 0;
  private numPinned = 0;
  private numSpilled = 0;
  private spilledBytes = 0;

  private spilledBytesTotal = 0;
  private spilledObjectsTotal = 0;
  private spillMs = 0;
  private restoredBytesTotal = 0;
  private restoredObjectsTotal = 0;
  private restoreMs = 0;
  private evictedBytesTotal = 0;
  private evictedObjectsTotal = 0;
  private lostObjectsTotal = 0;
  private nextSpillLogBytes = 2 * 1024 * MiB;
  private lastSpillError: string | undefined;

  private spillLock: Promise<void> = Promise.resolve();
  private background: Promise<void> | undefined;
  private changeWaiters: (() => void)[] = [];
  private closed = false;
  /** Spill writes and restores running now. */
  private inflight = 0;

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
    this.capacity = this.allocator.capacity;
    this.maxObjectSize = Math.min(this.capacity, Math.floor(this.arena.segmentSize / ALIGNMENT) * ALIGNMENT);
    this.spillThreshold = opts.spillThreshold ?? OBJECT_STORE_DEFAULTS.spillThreshold;
    this.minSpillSize = Math.max(
      1,
      opts.minSpillSize ?? Math.min(OBJECT_STORE_DEFAULTS.minSpillSize, Math.floor(this.capacity / 10)),
    );
    this.maxFusedObjects = Math.max(1, opts.maxFusedObjects ?? OBJECT_STORE_DEFAULTS.maxFusedObjects);
    this.fullTimeoutMs = opts.fullTimeoutMs ?? OBJECT_STORE_DEFAULTS.fullTimeoutMs;
    this.spiller = opts.spillDir
      ? new SpillManager(opts.spillDir, {
          diskCapacityThreshold: opts.diskCapacityThreshold ?? OBJECT_STORE_DEFAULTS.diskCapacityThreshold,
        })
      : undefined;
    this.log = opts.logger ?? nullLogger;
    this.onEvicted = opts.onEvicted;
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
    this.table.set(id, e);
    this.index(e);
    return { id, offset, size, view: this.arena.view(offset, size) };
  }

  /** Makes a created object immutable and visible to get/contains. */
  seal(id: string): void {
    const e = this.table.get(id);
    if (!e) throw new RaytsError(`seal: object ${id} is not in the object store`);
    if (e.sealed) throw new RaytsError(`seal: object ${id} is already sealed`);
    this.unindex(e);
    e.sealed = true;
    this.index(e);
    this.notifyChange();
    this.maybeSpillInBackground();
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
        this.unindex(e);
        e.pins += 1;
        this.index(e);
        return { id, offset: e.offset, size: e.size, view: this.arena.view(e.offset, e.size) };
      }
      if (e.restoring) {
        // Someone else is restoring it: wait, then pin it like any in-memory object.
        await e.restoring;
        continue;
      }
      const p = this.restore(e);
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
    const list = this.zombies.get(id);
    if (list) {
      const z = list[0]!;
      z.pins -= 1;
      if (z.pins <= 0) {
        list.shift();
        if (list.length === 0) this.zombies.delete(id);
        this.numPinned -= 1;
        if (!z.spilling) this.freeMemory(z);
      }
      this.notifyChange();
      return;
    }
    const e = this.table.get(id);
    if (!e || e.pins <= 0) throw new RaytsError(`release: object ${id} is not pinned`);
    this.unindex(e);
    e.pins -= 1;
    this.index(e);
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
    this.table.delete(id);
    this.unindex(e);
    e.deleted = true;
    if (e.spill && !e.restoring) {
      this.spiller!.release(e.spill.file);
      e.spill = undefined;
    }
    if (e.pins > 0) {
      const list = this.zombies.get(id);
      if (list) list.push(e);
      else this.zombies.set(id, [e]);
      this.numPinned += 1;
    } else if (!e.spilling && !e.restoring) {
      this.freeMemory(e);
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
    return [...this.table.keys()];
  }

  stats(): ObjectStoreStats {
    const a = this.allocator.stats();
    return {
      capacity: this.capacity,
      used: a.used,
      free: a.free,
      largestFree: a.largestFree,
      numObjects: this.table.size,
      numUnsealed: this.numUnsealed,
      numPrimary: this.numPrimary,
      numSecondary: this.numSecondary,
      numPinned: this.numPinned,
      primaryBytes: this.primaryBytes,
      primaryUnspilledBytes: this.primaryUnspilledBytes,
      secondaryBytes: this.secondaryBytes,
      unsealedBytes: this.unsealedBytes,
      numSpilled: this.numSpilled,
      spilledBytes: this.spilledBytes,
      spillFiles: this.spiller?.fileCount ?? 0,
      spillFileBytes: this.spiller?.diskBytes ?? 0,
      spilledBytesTotal: this.spilledBytesTotal,
      spilledObjectsTotal: this.spilledObjectsTotal,
      restoredBytesTotal: this.restoredBytesTotal,
      restoredObjectsTotal: this.restoredObjectsTotal,
      evictedBytesTotal: this.evictedBytesTotal,
      evictedObjectsTotal: this.evictedObjectsTotal,
      lostObjectsTotal: this.lostObjectsTotal,
      spillThroughputMiBps: this.spillMs > 0 ? this.spilledBytesTotal / MiB / (this.spillMs / 1000) : 0,
      restoreThroughputMiBps: this.restoreMs > 0 ? this.restoredBytesTotal / MiB / (this.restoreMs / 1000) : 0,
      spillDir: this.spiller?.dir,
      lastSpillError: this.lastSpillError,
    };
  }

  /**
   * Recomputes every counter and list from the table and checks the allocator (for tests and
   * debugging; O(objects)). Throws on the first inconsistency.
   */
  checkInvariants(): void {
    this.allocator.checkInvariants();
    const c = { primaryBytes: 0, primaryUnspilledBytes: 0, secondaryBytes: 0, unsealedBytes: 0, numPrimary: 0, numSecondary: 0, numUnsealed: 0, numPinned: 0, numSpilled: 0, spilledBytes: 0 };
    let allocated = 0;
    const live = new Map<string, number>();
    for (const [id, e] of this.table) {
      if (e.id !== id || e.deleted || !e.indexed) throw new Error(`object table: bad entry ${id}`);
      const inMemory = e.offset !== undefined;
      if (inMemory) {
        if (this.allocator.sizeOf(e.offset!) !== Math.max(ALIGNMENT, alignUp(e.size))) throw new Error(`object ${id}: allocation does not match`);
        allocated++;
      }
      if (e.pins > 0) c.numPinned++;
      if (e.spill) {
        c.numSpilled++;
        c.spilledBytes += e.size;
        live.set(e.spill.file.path, (live.get(e.spill.file.path) ?? 0) + 1);
      }
      if (!e.sealed) {
        c.numUnsealed++;
        c.unsealedBytes += e.size;
        if (!inMemory) throw new Error(`object ${id}: unsealed but not in memory`);
      } else if (e.primary) {
        c.numPrimary++;
        if (inMemory) {
          c.primaryBytes += e.size;
          if (!e.spill) c.primaryUnspilledBytes += e.size;
        } else if (!e.spill && !e.restoring) throw new Error(`object ${id}: neither in memory nor spilled`);
      } else {
        c.numSecondary++;
        if (inMemory) c.secondaryBytes += e.size;
        else throw new Error(`object ${id}: secondary copy not in memory`);
      }
      const droppable = e.sealed && inMemory && e.pins === 0 && !e.spilling;
      if (this.evictable.has(id) !== (droppable && (!e.primary || !!e.spill))) throw new Error(`object ${id}: evictable list is wrong`);
      if (this.spillable.has(id) !== (droppable && e.primary && !e.spill)) throw new Error(`object ${id}: spillable list is wrong`);
    }
    for (const list of this.zombies.values()) {
      for (const z of list) {
        c.numPinned++;
        if (z.offset !== undefined) allocated++;
      }
    }
    for (const [k, v] of Object.entries(c)) {
      if ((this as unknown as Record<string, number>)[k] !== v) throw new Error(`object store counter ${k} is ${(this as unknown as Record<string, number>)[k]}, expected ${v}`);
    }
    if (allocated !== this.allocator.allocations && !this.busy()) {
      throw new Error(`object store: ${this.allocator.allocations} allocations but ${allocated} objects in memory`);
    }
    for (const [path, n] of live) {
      const f = [...this.table.values()].find((e) => e.spill?.file.path === path)!.spill!.file;
      if (f.live < n) throw new Error(`spill file ${path}: live count ${f.live} below its ${n} objects`);
    }
  }

  /** A spill or restore is in flight (allocations may belong to objects not yet in memory). */
  private busy(): boolean {
    return this.inflight > 0;
  }

  /** Resolves when no background or foreground spill is running. */
  async drain(): Promise<void> {
    for (;;) {
      const bg = this.background;
      const lock = this.spillLock;
      await bg;
      await lock;
      if (bg === this.background && lock === this.spillLock) return;
    }
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

  // --- making room -------------------------------------------------------------------------------

  private async allocate(size: number, id: string, what: 'create' | 'restore' = 'create'): Promise<number> {
    const need = Math.max(ALIGNMENT, alignUp(size));
    if (need > this.maxObjectSize) throw this.fullError(id, size, true, what);
    const deadline = Date.now() + this.fullTimeoutMs;
    for (;;) {
      if (this.closed) throw new RaytsError('the object store was closed');
      const offset = this.allocator.alloc(size);
      if (offset !== undefined) return offset;
      if (this.evictOne()) continue;
      if (this.spiller && this.spillable.size > 0) {
        const freed = await this.spill(Math.max(need, this.minSpillSize));
        if (freed > 0) continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.fullError(id, size, false, what);
      await this.waitForChange(remaining);
    }
  }

  /** Drops the least recently used droppable copy. false when there is none. */
  private evictOne(): boolean {
    const first = this.evictable.values().next();
    if (first.done) return false;
    const e = first.value;
    this.unindex(e);
    this.evictedBytesTotal += e.size;
    this.evictedObjectsTotal += 1;
    if (e.primary) {
      // Its bytes are on disk: drop the memory, keep the entry (a get restores it).
      this.freeMemory(e);
      this.index(e);
    } else {
      this.table.delete(e.id);
      e.deleted = true;
      this.freeMemory(e);
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

  // --- spilling and restoring ---------------------------------------------------------------------

  private async withSpillLock<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.spillLock;
    let unlock!: () => void;
    this.spillLock = new Promise<void>((r) => (unlock = r));
    try {
      await prev;
      return await fn();
    } finally {
      unlock();
    }
  }

  /**
   * Spills least recently used unpinned primary copies, about `target` bytes (at least one object,
   * at most maxFusedObjects), into one file and frees their memory. Returns the bytes freed.
   */
  private spill(target: number): Promise<number> {
    return this.withSpillLock(async () => {
      const spiller = this.spiller!;
      const batch: Entry[] = [];
      let bytes = 0;
      for (const e of this.spillable.values()) {
        if (bytes >= target || batch.length >= this.maxFusedObjects) break;
        batch.push(e);
        bytes += e.size;
      }
      if (batch.length === 0) return 0;
      spiller.checkDisk(bytes);
      for (const e of batch) {
        this.unindex(e);
        e.spilling = true;
        this.index(e);
      }
      const started = performance.now();
      let result: Awaited<ReturnType<SpillManager['write']>>;
      this.inflight++;
      try {
        result = await spiller.write(batch.map((e) => this.arena.view(e.offset!, e.size)));
      } catch (err) {
        this.inflight--;
        for (const e of batch) {
          if (e.deleted) {
            e.spilling = false;
            if (e.pins === 0) this.freeMemory(e);
            continue;
          }
          this.unindex(e);
          e.spilling = false;
          this.index(e);
        }
        this.notifyChange();
        throw err;
      }
      this.inflight--;
      this.spillMs += performance.now() - started;
      this.spilledBytesTotal += bytes;
      this.spilledObjectsTotal += batch.length;
      this.lastSpillError = undefined;
      let freed = 0;
      batch.forEach((e, i) => {
        if (e.deleted) {
          e.spilling = false;
          spiller.release(result.file);
          if (e.pins === 0) this.freeMemory(e);
          freed += e.size;
          return;
        }
        this.unindex(e);
        e.spilling = false;
        e.spill = { file: result.file, offset: result.offsets[i]!, size: e.size };
        if (e.pins === 0) {
          this.freeMemory(e);
          freed += e.size;
        }
        this.index(e);
      });
      this.log.debug('spilled objects', { objects: batch.length, bytes, file: result.file.path });
      if (this.spilledBytesTotal >= this.nextSpillLogBytes) {
        this.nextSpillLogBytes = this.spilledBytesTotal + 2 * 1024 * MiB;
        const s = this.stats();
        this.log.info(
          `Spilled ${Math.round(s.spilledBytesTotal / MiB)} MiB, ${s.spilledObjectsTotal} objects, ` +
            `write throughput ${Math.round(s.spillThroughputMiBps)} MiB/s`,
        );
      }
      this.notifyChange();
      return Math.max(freed, 1);
    });
  }

  private maybeSpillInBackground(): void {
    if (!this.spiller || this.background || this.closed) return;
    if (this.primaryUnspilledBytes <= this.spillThreshold * this.capacity) return;
    this.background = (async () => {
      try {
        while (!this.closed && this.spillable.size > 0) {
          const excess = this.primaryUnspilledBytes - this.spillThreshold * this.capacity;
          if (excess <= 0) break;
          await this.spill(Math.max(excess, this.minSpillSize));
        }
      } catch (err) {
        this.lastSpillError = (err as Error).message;
        this.log.warn('spilling failed', { error: err as Error });
      } finally {
        this.background = undefined;
      }
    })();
  }

  /** Reads a spilled object back into the arena and returns it pinned once (for the caller). */
  private async restore(e: Entry): Promise<PinnedObject | undefined> {
    const loc = e.spill!;
    const started = performance.now();
    let offset: number | undefined;
    this.inflight++;
    try {
      offset = await this.allocate(e.size, e.id, 'restore');
      await this.spiller!.read(loc, this.arena.view(offset, e.size));
    } catch (err) {
      this.inflight--;
      if (offset !== undefined) this.allocator.free(offset);
      if (e.deleted) this.spiller!.release(loc.file);
      else if (err instanceof SpillFileDamagedError) throw this.dropLost(e, err);
      this.notifyChange();
      throw err;
    }
    this.inflight--;
    if (e.deleted) {
      this.allocator.free(offset);
      this.spiller!.release(loc.file);
      this.notifyChange();
      return undefined;
    }
    this.restoreMs += performance.now() - started;
    this.restoredBytesTotal += e.size;
    this.restoredObjectsTotal += 1;
    this.unindex(e);
    e.offset = offset;
    e.pins = 1;
    this.index(e);
    return { id: e.id, offset, size: e.size, view: this.arena.view(offset, e.size) };
  }

  /**
   * The object's spill copy is unusable and it has no other: forget it entirely (counters, LRU lists,
   * its share of the spill file), so the store stays consistent and a re-run task can create it again.
   */
  private dropLost(e: Entry, damage: SpillFileDamagedError): SpilledObjectLostError {
    const loc = e.spill!;
    this.table.delete(e.id);
    this.unindex(e);
    e.deleted = true;
    e.spill = undefined;
    this.spiller!.release(loc.file);
    this.lostObjectsTotal += 1;
    this.notifyChange();
    const lost = new SpilledObjectLostError(e.id, e.size, damage.path, damage.problem);
    this.log.warn('spilled object lost', { objectId: e.id, bytes: e.size, file: damage.path, problem: damage.problem });
    return lost;
  }

  // --- bookkeeping ---------------------------------------------------------------------------------

  private freeMemory(e: Entry): void {
    if (e.offset === undefined) return;
    this.allocator.free(e.offset);
    e.offset = undefined;
  }

  /** Adds the entry to the counters and LRU lists its state puts it in (at the MRU end). */
  private index(e: Entry): void {
    if (e.indexed || e.deleted) return;
    e.indexed = true;
    const inMemory = e.offset !== undefined;
    if (e.pins > 0) this.numPinned += 1;
    if (e.spill) {
      this.numSpilled += 1;
      this.spilledBytes += e.size;
    }
    if (!e.sealed) {
      this.numUnsealed += 1;
      this.unsealedBytes += e.size;
      return;
    }
    if (e.primary) {
      this.numPrimary += 1;
      if (inMemory) {
        this.primaryBytes += e.size;
        if (!e.spill) this.primaryUnspilledBytes += e.size;
      }
    } else {
      this.numSecondary += 1;
      if (inMemory) this.secondaryBytes += e.size;
    }
    if (inMemory && e.pins === 0 && !e.spilling) {
      if (!e.primary || e.spill) this.evictable.set(e.id, e);
      else this.spillable.set(e.id, e);
    }
  }

  private unindex(e: Entry): void {
    if (!e.indexed) return;
    e.indexed = false;
    const inMemory = e.offset !== undefined;
    if (e.pins > 0) this.numPinned -= 1;
    if (e.spill) {
      this.numSpilled -= 1;
      this.spilledBytes -= e.size;
    }
    if (!e.sealed) {
      this.numUnsealed -= 1;
      this.unsealedBytes -= e.size;
      return;
    }
    if (e.primary) {
      this.numPrimary -= 1;
      if (inMemory) {
        this.primaryBytes -= e.size;
        if (!e.spill) this.primaryUnspilledBytes -= e.size;
      }
    } else {
      this.numSecondary -= 1;
      if (inMemory) this.secondaryBytes -= e.size;
    }
    this.evictable.delete(e.id);
    this.spillable.delete(e.id);
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
