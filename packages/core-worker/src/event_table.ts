/**
 * The TaskEventBuffer's records until the next report: one slot per attempt (a process's events
 * about an attempt land in its slot: an owner finds it by the hint it keeps, the executing side by
 * task id), in columns (typed arrays and reference arrays). Recording an event writes a few array cells: no object per event, no grouping
 * left for the report, which reads the slots in order.
 *
 * Bounded by `capacity` events (a state first reached in a slot is one event): beyond it the oldest
 * slots are dropped, and their events counted.
 */
import { TASK_STATES } from '@rayts/common';
import type { TaskInfo } from '@rayts/common';

export const STATES = TASK_STATES.length;
export const STATE: Readonly<Record<(typeof TASK_STATES)[number], number>> = Object.fromEntries(TASK_STATES.map((s, i) => [s, i])) as Record<(typeof TASK_STATES)[number], number>;

/** Who reports the slot's attempt: its owner, or this process as the one running it (an actor's creation, the driver task). */
export const OWNER = 0;
export const EXECUTOR = 1;
/** A slot whose attempt was encoded already (released): it holds nothing until the table is drained. */
const RELEASED = 2;

const INITIAL_SLOTS = 1024;
/** Slots per generation in a handle. */
const SPAN = 2 ** 24;
/** The bound a table can have (its handles name slots below SPAN). */
export const MAX_BUFFER_EVENTS = SPAN;

export class EventTable {
  private size = 0;
  /** Live slots are head..tail-1, oldest first. */
  private head = 0;
  private tail = 0;
  /** Events in the live slots. */
  private events = 0;
  /**
   * Newest EXECUTOR slot of each task id (checked on use: it may have been dropped or belong to an
   * older attempt). Owners find their slots by the hints they keep (no lookup on their hot path); an
   * owner's event without a valid hint opens a slot of its own, which the head merges like any report.
   */
  private readonly index = new Map<string, number>();
  /** Grows when slots are emptied or moved: handles of an older generation name nothing. */
  private gen = 0;
  /** Events of slots dropped to make room, not yet returned by `bound`. */
  private droppedForRoom = 0;

  kind = new Uint8Array(0);
  attempt = new Uint32Array(0);
  workerPid = new Uint32Array(0);
  /** STATES per slot: when each state was reached (NaN = not). */
  times = new Float64Array(0);
  /** 4 per slot: stdout start, stdout end, stderr start, stderr end (-1 = unknown). */
  offsets = new Float64Array(0);
  taskId: string[] = [];
  jobId: string[] = [];
  nodeId: string[] = [];
  workerId: string[] = [];
  info: (TaskInfo | undefined)[] = [];
  errorType: string[] = [];
  errorMessage: string[] = [];
  /** An owner's attempt: the run its outcome brought, packed (packRun). */
  run: string[] = [];

  /** `capacity`: 1..MAX_BUFFER_EVENTS - 1 (the buffer checks it). */
  constructor(private readonly capacity: number) {}

  /** A number naming the slot until the table is drained or moved: a caller that keeps it finds the slot again without a lookup. */
  handle(slot: number): number {
    return this.gen * SPAN + slot;
  }

  /** Events waiting for the report. */
  get pending(): number {
    return this.events;
  }

  /** The slot of this attempt's record of `kind` (the one `hint` names, when it still does), opened when there is none. */
  slot(kind: number, taskId: string, attempt: number, jobId: string, hint = -1): number {
    if (hint >= 0) {
      const h = hint % SPAN;
      if ((hint - h) / SPAN === this.gen && h >= this.head && h < this.tail && this.attempt[h] === attempt && this.kind[h] === kind && this.taskId[h] === taskId) return h;
    }
    if (kind === EXECUTOR) {
      const s = this.index.get(taskId);
      if (s !== undefined && s >= this.head && s < this.tail && this.attempt[s] === attempt && this.kind[s] === kind && this.taskId[s] === taskId) return s;
    }
    return this.open(kind, taskId, attempt, jobId);
  }

  /** The state was reached at `timeMs` (its first time counts). */
  time(slot: number, state: number, timeMs: number): void {
    const at = slot * STATES + state;
    const seen = this.times[at]!;
    if (seen !== seen) {
      this.times[at] = timeMs;
      this.events += 1;
    } else if (timeMs < seen) {
      this.times[at] = timeMs;
    }
  }

  /** The slot's record was taken (encoded): it holds no events or objects from now on. */
  release(slot: number): void {
    this.events -= this.eventsIn(slot);
    this.times.fill(NaN, slot * STATES, slot * STATES + STATES);
    if (this.kind[slot] === EXECUTOR && this.index.get(this.taskId[slot]!) === slot) this.index.delete(this.taskId[slot]!);
    this.kind[slot] = RELEASED;
    this.clear(slot);
  }

  /** Drops the oldest slots while there are more than `capacity` events; returns the events dropped (also those dropped to make room). */
  bound(): number {
    let dropped = this.droppedForRoom;
    this.droppedForRoom = 0;
    while (this.events > this.capacity && this.head < this.tail) {
      const n = this.eventsIn(this.head);
      this.events -= n;
      dropped += n;
      this.clear(this.head);
      this.head += 1;
    }
    return dropped;
  }

  /** Visits every live slot not released, oldest first (its events no longer pending), then empties the table. */
  drain(visit: (slot: number) => void): void {
    for (let s = this.head; s < this.tail; s++) {
      if (this.kind[s] === RELEASED) continue;
      // Counted out before the visit: what the visitor encodes is counted where it goes.
      this.events -= this.eventsIn(s);
      visit(s);
    }
    for (let s = this.head; s < this.tail; s++) this.clear(s);
    this.head = this.tail = this.events = 0;
    this.index.clear();
    this.gen += 1;
  }

  private eventsIn(slot: number): number {
    let n = 0;
    for (let i = slot * STATES; i < slot * STATES + STATES; i++) if (this.times[i] === this.times[i]) n += 1;
    return n;
  }

  private open(kind: number, taskId: string, attempt: number, jobId: string): number {
    if (this.tail === this.size) this.makeRoom();
    const s = this.tail++;
    this.kind[s] = kind;
    this.attempt[s] = attempt;
    this.workerPid[s] = 0;
    this.times.fill(NaN, s * STATES, s * STATES + STATES);
    this.offsets.fill(-1, s * 4, s * 4 + 4);
    this.taskId[s] = taskId;
    this.jobId[s] = jobId;
    this.nodeId[s] = '';
    this.workerId[s] = '';
    this.errorType[s] = '';
    this.errorMessage[s] = '';
    this.run[s] = '';
    if (kind === EXECUTOR) this.index.set(taskId, s);
    return s;
  }

  /**
   * Room at the tail: move the live slots down over the released ones, growing the columns (up to
   * capacity) when every slot is live. At full size with more than three quarters of the slots live
   * (attempts in flight waiting for the report: a driver that submitted a million tasks), the oldest
   * live slots are dropped (counted) down to three quarters, so that this runs once per quarter of
   * the table and not once per new slot.
   */
  private makeRoom(): void {
    let live = 0;
    for (let s = this.head; s < this.tail; s++) if (this.kind[s] !== RELEASED) live += 1;
    const keep = this.size - Math.max(1, Math.floor(this.size / 4));
    if (this.size >= this.capacity && live > keep) {
      for (let s = this.head; s < this.tail && live > keep; s++) {
        if (this.kind[s] === RELEASED) continue;
        this.droppedForRoom += this.eventsIn(s);
        this.release(s);
        live -= 1;
      }
    }
    const size = live === this.size ? Math.min(Math.max(INITIAL_SLOTS, this.size * 2), this.capacity) : this.size;
    if (size !== this.size) {
      const grow = <T extends Uint8Array | Uint32Array | Float64Array>(col: T, make: (n: number) => T, per: number): T => {
        const next = make(size * per);
        next.set(col, 0);
        return next;
      };
      this.kind = grow(this.kind, (n) => new Uint8Array(n), 1);
      this.attempt = grow(this.attempt, (n) => new Uint32Array(n), 1);
      this.workerPid = grow(this.workerPid, (n) => new Uint32Array(n), 1);
      this.times = grow(this.times, (n) => new Float64Array(n), STATES);
      this.offsets = grow(this.offsets, (n) => new Float64Array(n), 4);
    }
    const refs = [this.taskId, this.jobId, this.nodeId, this.workerId, this.info, this.errorType, this.errorMessage, this.run] as unknown[][];
    let to = 0;
    for (let s = this.head; s < this.tail; s++) {
      if (this.kind[s] === RELEASED) continue;
      if (to !== s) {
        this.kind[to] = this.kind[s]!;
        this.attempt[to] = this.attempt[s]!;
        this.workerPid[to] = this.workerPid[s]!;
        this.times.copyWithin(to * STATES, s * STATES, s * STATES + STATES);
        this.offsets.copyWithin(to * 4, s * 4, s * 4 + 4);
        for (const col of refs) col[to] = col[s];
      }
      to += 1;
    }
    for (const col of refs) col.length = live;
    this.size = size;
    this.head = 0;
    this.tail = live;
    this.gen += 1;
    this.index.clear();
    for (let s = 0; s < live; s++) if (this.kind[s] === EXECUTOR) this.index.set(this.taskId[s]!, s);
  }

  /** Lets the slot's objects go (the strings of its task and run too: they would live on until the slot is reused). */
  private clear(slot: number): void {
    this.info[slot] = undefined;
    this.taskId[slot] = this.run[slot] = this.errorMessage[slot] = '';
  }
}
