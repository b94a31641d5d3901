/**
 * Spilling and restoring primary copies: which objects go to disk (least recently used unpinned
 * primaries, fused into files of about `minSpillSize`), background spilling past `spillThreshold`,
 * reading a spilled object back, and dropping one whose spill file is gone. One spill runs at a time.
 */
import type { Logger } from '@rayts/common';
import { SpillFileDamagedError, SpilledObjectLostError } from './errors.js';
import type { Entry, ObjectTable } from './object_table.js';
import type { SpillManager } from './spill.js';
import type { ObjectStoreStats, PinnedObject } from './store_api.js';

const MiB = 1024 * 1024;
/** A progress line is logged every time this many more bytes have been spilled. */
const SPILL_LOG_EVERY_BYTES = 2 * 1024 * MiB;

/** What spilling needs from the store around it. */
export interface SpillingDeps {
  table: ObjectTable;
  spiller: SpillManager;
  arena: { view(offset: number, size: number): Uint8Array };
  allocator: { free(offset: number): void };
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
  private spillLock: Promise<void> = Promise.resolve();
  private background: Promise<void> | undefined;
  /** Spill writes and restores running now. */
  private inflight = 0;

  constructor(private readonly deps: SpillingDeps) {}

  /** A spill or restore is in flight (allocations may belong to objects not yet in memory). */
  get busy(): boolean {
    return this.inflight > 0;
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

  /**
   * Spills least recently used unpinned primary copies, about `target` bytes (at least one object,
   * at most maxFusedObjects), into one file and frees their memory. Returns the bytes freed.
   */
  spill(target: number): Promise<number> {
    return this.withSpillLock(async () => {
      const { table, spiller } = this.deps;
      const batch: Entry[] = [];
      let bytes = 0;
      for (const e of table.spillable.values()) {
        if (bytes >= target || batch.length >= this.deps.maxFusedObjects) break;
        batch.push(e);
        bytes += e.size;
      }
      if (batch.length === 0) return 0;
      spiller.checkDisk(bytes);
      for (const e of batch) table.update(e, () => (e.spilling = true));
      const started = performance.now();
      let result: Awaited<ReturnType<SpillManager['write']>>;
      this.inflight++;
      try {
        result = await spiller.write(batch.map((e) => this.deps.arena.view(e.offset!, e.size)));
      } catch (err) {
        this.inflight--;
        for (const e of batch) {
          if (e.deleted) {
            e.spilling = false;
            if (e.pins === 0) table.freeMemory(e);
            continue;
          }
          table.update(e, () => (e.spilling = false));
        }
        this.deps.notifyChange();
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
          if (e.pins === 0) table.freeMemory(e);
          freed += e.size;
          return;
        }
        table.update(e, () => {
          e.spilling = false;
          e.spill = { file: result.file, offset: result.offsets[i]!, size: e.size };
          if (e.pins === 0) {
            table.freeMemory(e);
            freed += e.size;
          }
        });
      });
      this.deps.log.debug('spilled objects', { objects: batch.length, bytes, file: result.file.path });
      if (this.spilledBytesTotal >= this.nextSpillLogBytes) {
        this.nextSpillLogBytes = this.spilledBytesTotal + SPILL_LOG_EVERY_BYTES;
        const s = this.stats();
        this.deps.log.info(
          `Spilled ${Math.round(s.spilledBytesTotal / MiB)} MiB, ${s.spilledObjectsTotal} objects, ` +
            `write throughput ${Math.round(s.spillThroughputMiBps)} MiB/s`,
        );
      }
      this.deps.notifyChange();
      return Math.max(freed, 1);
    });
  }

  /** Starts spilling in the background when in-memory-only primaries pass the threshold. */
  maybeSpillInBackground(): void {
    const { table, capacity, spillThreshold, minSpillSize } = this.deps;
    if (this.background || this.deps.isClosed()) return;
    if (table.counters.primaryUnspilledBytes <= spillThreshold * capacity) return;
    this.background = (async () => {
      try {
        while (!this.deps.isClosed() && table.spillable.size > 0) {
          const excess = table.counters.primaryUnspilledBytes - spillThreshold * capacity;
          if (excess <= 0) break;
          await this.spill(Math.max(excess, minSpillSize));
        }
      } catch (err) {
        this.lastSpillError = (err as Error).message;
        this.deps.log.warn('spilling failed', { error: err as Error });
      } finally {
        this.background = undefined;
      }
    })();
  }

  /** Reads a spilled object back into the arena and returns it pinned once (for the caller). */
  async restore(e: Entry): Promise<PinnedObject | undefined> {
    const { table, spiller, arena, allocator } = this.deps;
    const loc = e.spill!;
    const started = performance.now();
    let offset: number | undefined;
    this.inflight++;
    try {
      offset = await this.deps.allocateForRestore(e.size, e.id);
      await spiller.read(loc, arena.view(offset, e.size));
    } catch (err) {
      this.inflight--;
      if (offset !== undefined) allocator.free(offset);
      if (e.deleted) spiller.release(loc.file);
      else if (err instanceof SpillFileDamagedError) throw this.dropLost(e, err);
      this.deps.notifyChange();
      throw err;
    }
    this.inflight--;
    if (e.deleted) {
      allocator.free(offset);
      spiller.release(loc.file);
      this.deps.notifyChange();
      return undefined;
    }
    this.restoreMs += performance.now() - started;
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
}
