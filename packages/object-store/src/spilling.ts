/**
 * Spilling and restoring primary copies: which objects go to disk (least recently used unpinned
 * primaries, fused into files of about `minSpillSize`), background spilling past `spillThreshold`,
 * spilling ahead of creates that have to make room, reading a spilled object back, and dropping one
 * whose spill file is gone. Up to MAX_SPILL_WRITES spill writes run at once.
 */
import type { Logger } from '@rayts/common';
import { SpillFileDamagedError, SpilledObjectLostError } from './errors.js';
import type { Entry, ObjectTable } from './object_table.js';
import type { SpillManager } from './spill.js';
import type { ObjectStoreStats, PinnedObject } from './store_api.js';

const MiB = 1024 * 1024;
/**
 * Spill writes running at once, each to its own file (Ray runs up to 4 spill workers). Buffered writes
 * are the kernel copying into the page cache, so two use both cores of a small machine.
 */
const MAX_SPILL_WRITES = 2;
/** A progress line is logged every time this many more bytes have been spilled. */
const SPILL_LOG_EVERY_BYTES = 2 * 1024 * MiB;

/** What spilling needs from the store around it. */
export interface SpillingDeps {
  table: ObjectTable;
  spiller: SpillManager;
  arena: { view(offset: number, size: number): Uint8Array };
  allocator: { free(offset: number): void; readonly freeBytes: number };
  log: Logger;
  capacity: number;
  spillThreshold: number;
  minSpillSize: number;
  maxFusedObjects: number;
  /** Makes room for a restore like a create would (evicting, spilling, waiting). */
  allocateForRestore(size: number, id: string): Promise<number>;
  /** Wakes creates waiting for space. */
  notifyChange(): void;
  isClosed(): boolean;
}

export type SpillStats = Pick<ObjectStoreStats,
  'spilledBytesTotal' | 'spilledObjectsTotal' | 'restoredBytesTotal' | 'restoredObjectsTotal' | 'lostObjectsTotal' |
  'spillThroughputMiBps' | 'restoreThroughputMiBps' | 'lastSpillError'>;

export class Spilling {
  private spilledBytesTotal = 0;
  private spilledObjectsTotal = 0;
  private spillMs = 0;
  private restoredBytesTotal = 0;
  private restoredObjectsTotal = 0;
  private restoreMs = 0;
  private lostObjectsTotal = 0;
  private nextSpillLogBytes = SPILL_LOG_EVERY_BYTES;
  private lastSpillError: string | undefined;
  /** Spill writes started so far, and how many had started when one last failed: only a write started after that clears the error. */
  private writesStarted = 0;
  private failedWrite = 0;
  /** Spill writes running now (each its own file), and the bytes they hold. */
  private readonly writes = new Set<Promise<unknown>>();
  private writingBytes = 0;
  private writeWaiters: (() => void)[] = [];
  /** Restores running now. */
  private restoring = 0;
  /** Bytes the last create or restore had to make room for (0 once one found room at once): spill ahead of the next. */
  private pressure = 0;
  /** Time spent with at least one write running (so parallel writes are not counted twice). */
  private writeStarted = 0;

  constructor(private readonly deps: SpillingDeps) {}

  /** A spill or restore is in flight (allocations may belong to objects not yet in memory). */
  get busy(): boolean {
    return this.writes.size > 0 || this.restoring > 0;
  }

  stats(): SpillStats {
    return {
      spilledBytesTotal: this.spilledBytesTotal,
      spilledObjectsTotal: this.spilledObjectsTotal,
      restoredBytesTotal: this.restoredBytesTotal,
      restoredObjectsTotal: this.restoredObjectsTotal,
      lostObjectsTotal: this.lostObjectsTotal,
      spillThroughputMiBps: this.spillMs > 0 ? this.spilledBytesTotal / MiB / (this.spillMs / 1000) : 0,
      restoreThroughputMiBps: this.restoreMs > 0 ? this.restoredBytesTotal / MiB / (this.restoreMs / 1000) : 0,
      lastSpillError: this.lastSpillError,
    };
  }

  /** Resolves when no spill write is running. */
  async drain(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  /**
   * A create or restore could not allocate and nothing was evictable: starts a spill that frees
   * memory when fewer than MAX_SPILL_WRITES are running (and awaits it), else waits for a running
   * one to end. false when neither is possible (nothing spillable, nothing being written).
   */
  async makeRoom(need: number): Promise<boolean> {
    if (this.writes.size < MAX_SPILL_WRITES && this.deps.table.spillable.size > 0) {
      await this.spill(Math.max(need, this.deps.minSpillSize), true);
      return true;
    }
    if (this.writes.size === 0) return false;
    await new Promise<void>((resolve) => this.writeWaiters.push(resolve));
    return true;
  }

  /**
   * Records whether the allocation that just succeeded had to make room (`bytes` > 0) and starts
   * background spilling if that calls for it.
   */
  noteAllocation(pressure: number): void {
    this.pressure = pressure;
    this.maybeSpillInBackground();
  }

  /**
   * Starts background spill writes (up to MAX_SPILL_WRITES), least recently used unpinned primaries first:
   * - while primaries held only in memory pass `spillThreshold` of capacity: their memory is freed;
   * - spilling ahead, while creates or restores have to make room (and `spillThreshold` < 1): enough
   *   bytes are written that the next one of the same size finds memory it can drop without a write.
   *   These objects stay in memory (evictable) until that room is needed.
   */
  maybeSpillInBackground(): void {
    const { table, capacity, spillThreshold, minSpillSize, allocator } = this.deps;
    while (!this.deps.isClosed() && this.writes.size < MAX_SPILL_WRITES && table.spillable.size > 0) {
      const excess = table.counters.primaryUnspilledBytes - this.writingBytes - spillThreshold * capacity;
      const short = spillThreshold < 1 ? this.pressure - allocator.freeBytes - table.counters.evictableBytes - this.writingBytes : 0;
      if (excess <= 0 && short <= 0) return;
      const free = excess > 0;
      const before = this.writes.size;
      // Goes on when the write ends, unless a write failed meanwhile: then at the next seal or allocation, not in a loop.
      const failed = (err: Error): void => this.deps.log.warn('spilling failed', { error: err });
      const n = this.writesStarted + 1;
      this.spill(Math.max(free ? excess : short, minSpillSize), free).then(() => {
        if (this.failedWrite < n) this.maybeSpillInBackground();
      }, failed);
      if (this.writes.size === before) return; // refused before writing (the disk check)
    }
  }

  /**
   * Spills least recently used unpinned primary copies, about `target` bytes (at least one object,
   * at most maxFusedObjects), into one file. `free`: their memory is freed (else they stay in memory,
   * evictable). Returns the bytes freed (at least 1 when something was written). The batch is chosen
   * and counted before the first await, so callers can start several writes at once.
   */
  private spill(target: number, free: boolean): Promise<number> {
    const { table, spiller } = this.deps;
    const batch: Entry[] = [];
    let bytes = 0;
    for (const e of table.spillable.values()) {
      if (bytes >= target || batch.length >= this.deps.maxFusedObjects) break;
      batch.push(e);
      bytes += e.size;
    }
    if (batch.length === 0) return Promise.resolve(0);
    try {
      spiller.checkDisk(bytes + this.writingBytes);
    } catch (err) {
      this.writesStarted++;
      this.failed(err as Error);
      return Promise.reject(err);
    }
    for (const e of batch) table.update(e, () => (e.spilling = true));
    const started = performance.now();
    if (this.writes.size === 0) this.writeStarted = started;
    this.writingBytes += bytes;
    const n = ++this.writesStarted;
    const write = spiller.write(batch.map((e) => this.deps.arena.view(e.offset!, e.size)));
    const done = write.then(
      (result) => this.spilled(batch, bytes, result, free, started, n),
      (err: unknown) => {
        this.failed(err as Error);
        for (const e of batch) {
          if (e.deleted) {
            e.spilling = false;
            if (e.pins === 0) table.freeMemory(e);
            continue;
          }
          table.update(e, () => (e.spilling = false));
        }
        throw err;
      },
    ).finally(() => {
      this.writes.delete(done);
      this.writingBytes -= bytes;
      if (this.writes.size === 0) this.spillMs += performance.now() - this.writeStarted;
      const waiters = this.writeWaiters;
      this.writeWaiters = [];
      for (const w of waiters) w();
      this.deps.notifyChange();
    });
    this.writes.add(done);
    return done;
  }

  /** Records a failed write; writes started before now (even after the failed one) do not clear it. */
  private failed(err: Error): void {
    this.lastSpillError = err.message;
    this.failedWrite = this.writesStarted;
  }

  /** A spill write ended well: the batch's entries point at the file; their memory goes when `free` (and unpinned). */
  private spilled(batch: Entry[], bytes: number, result: Awaited<ReturnType<SpillManager['write']>>, free: boolean, started: number, n: number): number {
    const { table, spiller } = this.deps;
    this.spilledBytesTotal += bytes;
    this.spilledObjectsTotal += batch.length;
    if (n > this.failedWrite) this.lastSpillError = undefined;
    let freed = 0;
    batch.forEach((e, i) => {
      if (e.deleted) {
        e.spilling = false;
        spiller.release(result.file);
        if (e.pins === 0) table.freeMemory(e);
        freed += e.size;
        return;
      }
      table.update(e, () => {
        e.spilling = false;
        e.spill = { file: result.file, offset: result.offsets[i]!, size: e.size };
        if (free && e.pins === 0) {
          table.freeMemory(e);
          freed += e.size;
        }
      });
    });
    this.deps.log.debug('spilled objects', { objects: batch.length, bytes, ms: Math.round(performance.now() - started), freed: free, file: result.file.path });
    if (this.spilledBytesTotal >= this.nextSpillLogBytes) {
      this.nextSpillLogBytes = this.spilledBytesTotal + SPILL_LOG_EVERY_BYTES;
      const s = this.stats();
      this.deps.log.info(
        `Spilled ${Math.round(s.spilledBytesTotal / MiB)} MiB, ${s.spilledObjectsTotal} objects, ` +
          `write throughput ${Math.round(s.spillThroughputMiBps)} MiB/s`,
      );
    }
    return Math.max(freed, 1);
  }

  /** Reads a spilled object back into the arena and returns it pinned once (for the caller). */
  async restore(e: Entry): Promise<PinnedObject | undefined> {
    const { table, spiller, arena, allocator } = this.deps;
    const loc = e.spill!;
    const started = performance.now();
    let allocated = started;
    let offset: number | undefined;
    this.restoring++;
    try {
      offset = await this.deps.allocateForRestore(e.size, e.id);
      allocated = performance.now();
      await spiller.read(loc, arena.view(offset, e.size));
    } catch (err) {
      this.restoring--;
      if (offset !== undefined) allocator.free(offset);
      if (e.deleted) spiller.release(loc.file);
      else if (err instanceof SpillFileDamagedError) throw this.dropLost(e, err);
      this.deps.notifyChange();
      throw err;
    }
    this.restoring--;
    if (e.deleted) {
      allocator.free(offset);
      spiller.release(loc.file);
      this.deps.notifyChange();
      return undefined;
    }
    const ended = performance.now();
    this.restoreMs += ended - started;
    this.deps.log.debug('restored object', { objectId: e.id, bytes: e.size, waitMs: Math.round(allocated - started), readMs: Math.round(ended - allocated) });
    this.restoredBytesTotal += e.size;
    this.restoredObjectsTotal += 1;
    const at = offset;
    table.update(e, () => {
      e.offset = at;
      e.pins = 1;
    });
    return { id: e.id, offset, size: e.size, view: arena.view(offset, e.size) };
  }

  /**
   * The object's spill copy is unusable and it has no other: forget it entirely (counters, LRU lists,
   * its share of the spill file), so the store stays consistent and a re-run task can create it again.
   */
  private dropLost(e: Entry, damage: SpillFileDamagedError): SpilledObjectLostError {
    const loc = e.spill!;
    this.deps.table.remove(e);
    e.spill = undefined;
    this.deps.spiller.release(loc.file);
    this.lostObjectsTotal += 1;
    this.deps.notifyChange();
    this.deps.log.warn('spilled object lost', { objectId: e.id, bytes: e.size, file: damage.path, problem: damage.problem });
    return new SpilledObjectLostError(e.id, e.size, damage.path, damage.problem);
  }
}
