/**
 * The head's task events (Ray's GcsTaskManager storage): every report about a task attempt, from its
 * owner and from the worker that runs it, merged into one record per (task id, attempt number).
 *
 * - Each state keeps the time it was first reported; the attempt's state is the furthest along the
 *   lifecycle (of FINISHED and FAILED, the later reported; FAILED on a tie).
 * - Bounded by `maxStored`: beyond it the attempt that became final (FINISHED/FAILED) first is
 *   evicted, else the oldest attempt of any kind; evictions are counted, and so are the events the
 *   reporting processes said they dropped.
 * - When a job finishes, its attempts not final yet become FAILED (Ray's WORKER_DIED, "job
 *   finished"); when a node is declared dead, those running there become FAILED (NODE_DIED). These
 *   are the head's conclusions, not reports: a real end reported later (events still on their way)
 *   replaces them.
 *
 * Storage is columnar (attempt_columns.ts): thousands of attempts arrive per second and up to
 * 100,000 stay, and an object graph per attempt cost the head more in garbage collection than the
 * rest of the work. TaskAttempt records are made when they are read (`list`, `attemptsOf`).
 *
 * In memory only: a restarted head starts empty, as Ray's does.
 */
import type { AttemptEvents, TaskAttempt } from '@rayts/common';
import { UsageError } from '@rayts/common';
import { AttemptColumns, MAX_STORED } from './attempt_columns.js';

/** One process's report about one attempt, validated (task_event_service.ts checks it). Empty strings, 0 and -1 mean "not said". */
export type AttemptReport = AttemptEvents;

export interface TaskEventStats {
  /** Attempts stored now. */
  stored: number;
  /** Events the reporting drivers and workers dropped (their buffers were full, or the head refused a report). */
  droppedAtWorkers: number;
  /** Attempts this store evicted to stay within its bound. */
  evictedAtGcs: number;
}

/** Slots in arrival order, each with the generation it had then; a slot reused since is skipped when met. */
class SlotQueue {
  private items: number[] = [];
  private head = 0;

  constructor(private readonly cols: AttemptColumns) {}

  push(slot: number): void {
    this.items.push(this.cols.handle(slot));
  }

  /** The first slot still valid that `keep` accepts; the ones before it are dropped. */
  first(keep: (slot: number) => boolean): number | undefined {
    while (this.head < this.items.length) {
      const slot = this.cols.slotOf(this.items[this.head]!);
      if (slot !== undefined && keep(slot)) break;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return this.head < this.items.length ? this.cols.slotOf(this.items[this.head]!) : undefined;
  }

  *slots(): Iterable<number> {
    for (let i = this.head; i < this.items.length; i++) {
      const slot = this.cols.slotOf(this.items[i]!);
      if (slot !== undefined) yield slot;
    }
  }
}

export class TaskEventStore {
  private readonly cols: AttemptColumns;
  /** Every stored attempt's slot, by task: most tasks have one attempt, kept without an array. */
  private readonly byTask = new Map<string, number | number[]>();
  /** Every stored attempt, oldest first. */
  private readonly arrivals: SlotQueue;
  /** Attempts in the order they became final: eviction takes the first still final. */
  private readonly finals: SlotQueue;
  private droppedAtWorkers = 0;
  private evictedAtGcs = 0;

  constructor(private readonly options: { maxStored: number }, private readonly now: () => number = Date.now) {
    if (!(options.maxStored >= 1 && options.maxStored < MAX_STORED)) {
      throw new UsageError(`RAYTS_TASK_EVENTS_MAX_STORED=${options.maxStored} is out of range`, `use 1..${MAX_STORED - 1} (default 100000; the head reserves about 100 bytes per attempt)`);
    }
    // One slot more than the bound: a new attempt is stored before the oldest goes.
    this.cols = new AttemptColumns(options.maxStored + 1);
    this.arrivals = new SlotQueue(this.cols);
    this.finals = new SlotQueue(this.cols);
  }

  /** Merges a batch of reports (validated); `numDropped` events were dropped by their sender. */
  add(reports: readonly AttemptReport[], numDropped = 0): void {
    this.droppedAtWorkers += numDropped;
    for (const report of reports) {
      const slot = this.slotFor(report);
      if (this.cols.merge(slot, report)) this.finals.push(slot);
      this.shareInfo(report.taskId, slot);
      this.evictBeyondBound();
    }
  }

  /** Every stored attempt, oldest first (records made for the caller). */
  *list(): Iterable<TaskAttempt> {
    for (const slot of this.arrivals.slots()) yield this.cols.record(slot);
  }

  /** The stored attempts of one task, by attempt number. */
  attemptsOf(taskId: string): TaskAttempt[] {
    return this.siblings(taskId).map((slot) => this.cols.record(slot)).sort((a, b) => a.attemptNumber - b.attemptNumber);
  }

  stats(): TaskEventStats {
    return { stored: this.cols.live, droppedAtWorkers: this.droppedAtWorkers, evictedAtGcs: this.evictedAtGcs };
  }

  /** The job ended: its attempts still in progress failed (Ray marks them so). Returns how many. */
  markJobFinished(jobId: string, timeMs = this.now()): number {
    return this.conclude((slot) => this.cols.jobId[slot] === jobId, 'WORKER_DIED',
      `the job ${jobId} finished (its driver exited or called shutdown) before this attempt did; marked failed by the head`, timeMs);
  }

  /** The node was declared dead: the attempts running there failed. Returns how many. */
  markNodeDead(nodeId: string, reason: string, timeMs = this.now()): number {
    return this.conclude((slot) => this.cols.nodeId[slot] === nodeId, 'NODE_DIED',
      `the node ${nodeId} running this attempt died${reason ? ` (${reason})` : ''}`, timeMs);
  }

  private conclude(match: (slot: number) => boolean, errorType: string, message: string, timeMs: number): number {
    let n = 0;
    for (const slot of this.arrivals.slots()) {
      if (this.cols.isFinal(slot) || !match(slot)) continue;
      if (this.cols.conclude(slot, errorType, message, timeMs)) this.finals.push(slot);
      n += 1;
    }
    return n;
  }

  private siblings(taskId: string): number[] {
    const found = this.byTask.get(taskId);
    return found === undefined ? [] : typeof found === 'number' ? [found] : found;
  }

  private slotFor(r: AttemptReport): number {
    const found = this.byTask.get(r.taskId);
    if (typeof found === 'number') {
      if (this.cols.attemptNumber[found] === r.attemptNumber) return found;
    } else if (found) {
      for (const s of found) if (this.cols.attemptNumber[s] === r.attemptNumber) return s;
    }
    const slot = this.cols.open(r.taskId, r.attemptNumber, r.jobId);
    if (found === undefined) this.byTask.set(r.taskId, slot);
    else if (typeof found === 'number') this.byTask.set(r.taskId, [found, slot]);
    else found.push(slot);
    this.arrivals.push(slot);
    return slot;
  }

  /** Attempts of a task reported without what it is (an actor restarted by the head) take it from another attempt. */
  private shareInfo(taskId: string, slot: number): void {
    const found = this.byTask.get(taskId);
    if (typeof found !== 'object') return;
    const info = this.cols.info[slot] ?? found.map((s) => this.cols.info[s]).find((i) => i !== undefined);
    if (info) for (const s of found) this.cols.info[s] ??= info;
  }

  private evictBeyondBound(): void {
    while (this.cols.live > this.options.maxStored) {
      const victim = this.finals.first((slot) => this.cols.isFinal(slot)) ?? this.arrivals.first(() => true)!;
      const taskId = this.cols.taskId[victim]!;
      const found = this.byTask.get(taskId)!;
      if (typeof found === 'number') {
        this.byTask.delete(taskId);
      } else {
        found.splice(found.indexOf(victim), 1);
        if (found.length === 1) this.byTask.set(taskId, found[0]!);
      }
      this.cols.close(victim);
      this.evictedAtGcs += 1;
    }
  }
}
