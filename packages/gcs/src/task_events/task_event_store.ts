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
 * Storage is columnar (attempt_columns.ts) and indexed by task id without strings (task_index.ts):
 * thousands of attempts arrive per second and up to 100,000 stay, so a batch is merged straight from
 * its bytes (TaskEventsView) and storing an attempt makes no object. TaskAttempt records are made
 * when they are read (`list`, `attemptsOf`).
 *
 * In memory only: a restarted head starts empty, as Ray's does.
 */
import type { AttemptEvents, TaskAttempt } from '@rayts/common';
import { TaskEventsView, UsageError, encodeTaskEvents } from '@rayts/common';
import { AttemptColumns, MAX_STORED, TASK_ID_CHARS } from './attempt_columns.js';
import { TaskIndex, hashTaskIdBytes } from './task_index.js';

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
  /** One stored attempt's slot per task; `next` links the task's other attempts from it (-1 ends), `prev` back (-1: the filed one). */
  private readonly index: TaskIndex;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** Every stored attempt, oldest first. */
  private readonly arrivals: SlotQueue;
  /** Attempts in the order they became final: eviction takes the first still final. */
  private readonly finals: SlotQueue;
  private droppedAtWorkers = 0;
  private evictedAtGcs = 0;

  constructor(private readonly options: { maxStored: number }, private readonly now: () => number = Date.now) {
    if (!(options.maxStored >= 1 && options.maxStored < MAX_STORED)) {
      throw new UsageError(`RAYTS_TASK_EVENTS_MAX_STORED=${options.maxStored} is out of range`, `use 1..${MAX_STORED - 1} (default 100000; the head keeps about 250 bytes per attempt)`);
    }
    // One slot more than the bound: a new attempt is stored before the oldest goes.
    const capacity = options.maxStored + 1;
    this.cols = new AttemptColumns(capacity);
    this.index = new TaskIndex(this.cols, capacity);
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
    this.arrivals = new SlotQueue(this.cols);
    this.finals = new SlotQueue(this.cols);
  }

  /**
   * Merges a batch of reports, checked whole by the service (parseAddTaskEvents: task ids of
   * TASK_ID_CHARS hex characters, …); `numDropped` events were dropped by their sender.
   */
  addBatch(batch: TaskEventsView, numDropped = 0): void {
    this.droppedAtWorkers += numDropped;
    for (let k = 0; k < batch.count; k++) {
      if (batch.taskIdLength(k) !== TASK_ID_CHARS) throw new Error(`attempt ${k} of the batch has a task id of ${batch.taskIdLength(k)} characters: batches must be checked (parseAddTaskEvents) before they are stored`);
      const hash = hashTaskIdBytes(batch.bytes, batch.taskIdAt(k));
      const first = this.index.findBytes(hash, batch.bytes, batch.taskIdAt(k));
      const slot = this.slotFor(hash, first, batch, k);
      if (this.cols.merge(slot, batch, k)) this.finals.push(slot);
      if (first !== -1 && (first !== slot || this.next[slot] !== -1)) this.shareInfo(first, slot);
      this.evictBeyondBound();
    }
  }

  /** Merges reports given as records (encoded, then as addBatch). */
  add(reports: readonly AttemptReport[], numDropped = 0): void {
    this.addBatch(TaskEventsView.read(encodeTaskEvents(reports)), numDropped);
  }

  /** Every stored attempt, oldest first (records made for the caller). */
  *list(): Iterable<TaskAttempt> {
    for (const slot of this.arrivals.slots()) yield this.cols.record(slot);
  }

  /** The stored attempts of one task, by attempt number. */
  attemptsOf(taskId: string): TaskAttempt[] {
    return this.siblings(this.index.findString(taskId)).map((slot) => this.cols.record(slot)).sort((a, b) => a.attemptNumber - b.attemptNumber);
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

  /** The attempts linked from `first` (-1: none). */
  private siblings(first: number): number[] {
    const out: number[] = [];
    for (let s = first; s !== -1; s = this.next[s]!) out.push(s);
    return out;
  }

  /** The slot of attempt k's (task, attempt number), opened when it has none; `first` is the task's first slot (-1: none). */
  private slotFor(hash: number, first: number, batch: TaskEventsView, k: number): number {
    const attemptNumber = batch.attemptNumber(k);
    let last = -1;
    for (let s = first; s !== -1; s = this.next[s]!) {
      if (this.cols.attemptNumber[s] === attemptNumber) return s;
      last = s;
    }
    const slot = this.cols.open(batch, k);
    this.next[slot] = -1;
    this.prev[slot] = last;
    this.index.remember(slot, hash);
    if (last === -1) this.index.insert(slot);
    else this.next[last] = slot;
    this.arrivals.push(slot);
    return slot;
  }

  /** Attempts of a task reported without what it is (an actor restarted by the head) take it from another attempt. */
  private shareInfo(first: number, slot: number): void {
    const all = this.siblings(first);
    const info = this.cols.info[slot] ?? all.map((s) => this.cols.info[s]).find((i) => i !== undefined);
    if (info) for (const s of all) this.cols.info[s] ??= info;
  }

  private evictBeyondBound(): void {
    while (this.cols.live > this.options.maxStored) {
      const victim = this.finals.first((slot) => this.cols.isFinal(slot)) ?? this.arrivals.first(() => true)!;
      const before = this.prev[victim]!;
      const after = this.next[victim]!;
      if (before === -1) {
        if (after === -1) this.index.remove(victim);
        else this.index.replace(victim, after);
      } else {
        this.next[before] = after;
      }
      if (after !== -1) this.prev[after] = before;
      this.next[victim] = this.prev[victim] = -1;
      this.cols.close(victim);
      this.evictedAtGcs += 1;
    }
  }
}
