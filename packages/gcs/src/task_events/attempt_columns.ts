/**
 * The TaskEventStore's attempts in columns: slot i of every column is one attempt. Task ids (their
 * 56 characters as bytes), times, numbers and offsets live in typed arrays; other strings and infos
 * are references shared with the batches they came in (a batch's job, node, worker and info are one
 * object each). Reports are merged straight from the bytes of their batch (TaskEventsView), so
 * storing an attempt makes no object and no string: an object graph per attempt (record,
 * transitions, log) cost the head more than decoding and merging together, and a string per task id
 * still cost it most of the rest. Records and task id strings are made when someone reads them.
 *
 * Slots are reused after an eviction; each has a generation, so a queue can keep a slot's handle
 * (generation and slot in one number) and tell later whether it still names the same attempt.
 */
import { TASK_STATES, workerLogFiles, type TaskAttempt, type TaskEventsView, type TaskInfo, type TaskLogLocation, type TaskState } from '@rayts/common';

const STATES = TASK_STATES.length;
/** A task id's characters (28 bytes as hex): the service lets no other in. */
export const TASK_ID_CHARS = 56;
const STATE_INDEX: Record<string, number> = Object.fromEntries(TASK_STATES.map((s, i) => [s, i]));
export const FINISHED = STATE_INDEX.FINISHED!;
export const FAILED = STATE_INDEX.FAILED!;
const PENDING_ARGS_AVAIL = STATE_INDEX.PENDING_ARGS_AVAIL!;
const RUNNING = STATE_INDEX.RUNNING!;

const LIVE = 1;
/** Its FAILED is the head's conclusion (job finished, node died), not a report. */
const CONCLUDED = 2;
/** In the queue of final attempts already. */
const QUEUED_FINAL = 4;
const HAS_LOG = 8;

/** Slots per generation step in a handle: handles stay exact doubles for 2^31 generations. */
const SLOT_SPAN = 2 ** 22;
/** The store's bound must stay below this (one slot more than the bound is used). */
export const MAX_STORED = SLOT_SPAN - 1;

export class AttemptColumns {
  private highWater = 0;
  private readonly free: number[] = [];
  /** Slots in use. */
  live = 0;

  readonly jobId: (string | undefined)[] = [];
  readonly nodeId: (string | undefined)[] = [];
  readonly workerId: (string | undefined)[] = [];
  readonly info: (TaskInfo | undefined)[] = [];
  readonly errorType: (string | undefined)[] = [];
  readonly errorMessage: (string | undefined)[] = [];
  /**
   * The numeric columns and task ids take their full size at once (~160 bytes a slot: ~16 MB for 100,000),
   * so the head's footprint for task events is fixed from the start.
   */
  readonly attemptNumber: Uint32Array;
  /** TASK_ID_CHARS per slot: the task id's characters (ASCII hex). */
  readonly taskIdBytes: Uint8Array;
  private readonly taskIdText: Buffer;
  private readonly workerPid: Uint32Array;
  private readonly gen: Uint32Array;
  private readonly flags: Uint8Array;
  private readonly state: Uint8Array;
  /** STATES per slot: the time each state was first reported, NaN when not. */
  private readonly times: Float64Array;
  /** 4 per slot: stdout start and end, stderr start and end; -1 when unknown. */
  private readonly log: Float64Array;

  /** `capacity`: at most SLOT_SPAN - 1 (the store checks its bound). */
  constructor(private readonly capacity: number) {
    this.attemptNumber = new Uint32Array(capacity);
    this.taskIdBytes = new Uint8Array(capacity * TASK_ID_CHARS);
    this.taskIdText = Buffer.from(this.taskIdBytes.buffer, this.taskIdBytes.byteOffset, this.taskIdBytes.byteLength);
    this.workerPid = new Uint32Array(capacity);
    this.gen = new Uint32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.times = new Float64Array(capacity * STATES);
    this.log = new Float64Array(capacity * 4);
  }

  /** A number naming the slot as it is now (until it is closed). */
  handle(slot: number): number {
    return this.gen[slot]! * SLOT_SPAN + slot;
  }

  /** The slot a handle names, if it still holds the same attempt. */
  slotOf(handle: number): number | undefined {
    const slot = handle % SLOT_SPAN;
    return (this.flags[slot]! & LIVE) !== 0 && this.gen[slot] === (handle - slot) / SLOT_SPAN ? slot : undefined;
  }

  isFinal(slot: number): boolean {
    return this.state[slot]! >= FINISHED;
  }

  taskId(slot: number): string {
    return this.taskIdText.toString('latin1', slot * TASK_ID_CHARS, slot * TASK_ID_CHARS + TASK_ID_CHARS);
  }

  /** Compared from the end: the ids of one process share their first 34 characters and differ in the last. */
  sameTaskIdBytes(slot: number, bytes: Uint8Array, at: number): boolean {
    const ids = this.taskIdBytes;
    const base = slot * TASK_ID_CHARS - at;
    for (let i = at + TASK_ID_CHARS - 1; i >= at; i--) if (ids[base + i] !== bytes[i]) return false;
    return true;
  }

  sameTaskIdString(slot: number, id: string): boolean {
    const ids = this.taskIdBytes;
    const base = slot * TASK_ID_CHARS;
    for (let i = TASK_ID_CHARS - 1; i >= 0; i--) if (ids[base + i] !== id.charCodeAt(i)) return false;
    return true;
  }

  /** A slot for a new attempt: attempt k of `batch` (whose task id is TASK_ID_CHARS characters). */
  open(batch: TaskEventsView, k: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.highWater === this.capacity) throw new Error('the task event store is full: it evicts before that, so this is a bug');
      slot = this.highWater++;
    }
    const { bytes } = batch;
    const at = batch.taskIdAt(k);
    const base = slot * TASK_ID_CHARS - at;
    for (let i = at; i < at + TASK_ID_CHARS; i++) this.taskIdBytes[base + i] = bytes[i]!;
    const attemptNumber = batch.attemptNumber(k);
    this.jobId[slot] = batch.strings[batch.jobRef(k)];
    this.attemptNumber[slot] = attemptNumber;
    this.workerPid[slot] = 0;
    this.flags[slot] = LIVE;
    this.state[slot] = 0;
    for (let i = slot * STATES; i < slot * STATES + STATES; i++) this.times[i] = NaN;
    for (let i = slot * 4; i < slot * 4 + 4; i++) this.log[i] = -1;
    this.live += 1;
    return slot;
  }

  /** The attempt is gone (evicted): its slot may hold another. */
  close(slot: number): void {
    this.gen[slot] = this.gen[slot]! + 1;
    this.flags[slot] = 0;
    this.jobId[slot] = this.nodeId[slot] = this.workerId[slot] = undefined;
    this.info[slot] = undefined;
    this.errorType[slot] = this.errorMessage[slot] = undefined;
    this.free.push(slot);
    this.live -= 1;
  }

  /** Merges attempt k of `batch` into the slot's attempt; true when that made it final (for the first time). */
  merge(slot: number, batch: TaskEventsView, k: number): boolean {
    const { strings } = batch;
    const info = batch.infoIndex(k);
    if (info >= 0) this.info[slot] = mergeInfo(this.info[slot], batch.infos[info]!);
    const nodeId = strings[batch.nodeRef(k)]!;
    if (nodeId) this.nodeId[slot] = nodeId;
    const workerId = strings[batch.workerRef(k)]!;
    if (workerId) this.workerId[slot] = workerId;
    const workerPid = batch.workerPid(k);
    if (workerPid) this.workerPid[slot] = workerPid;
    if (batch.hasLog(k) && this.workerId[slot] && this.workerPid[slot]) {
      const at = slot * 4;
      for (let i = 0; i < 4; i++) {
        const offset = batch.logOffset(k, i);
        if (offset >= 0) this.log[at + i] = offset;
      }
      this.flags[slot]! |= HAS_LOG;
    }
    const base = slot * STATES;
    const n = batch.transitionCount(k);
    if ((this.flags[slot]! & CONCLUDED) !== 0) {
      let ends = false;
      for (let j = 0; j < n; j++) if (batch.transitionState(k, j) >= FINISHED) ends = true;
      if (ends) {
        // A real end arrived: the head's conclusion goes.
        this.times[base + FAILED] = NaN;
        this.errorType[slot] = this.errorMessage[slot] = undefined;
        this.flags[slot]! &= ~CONCLUDED;
      }
    }
    for (let j = 0; j < n; j++) {
      const at = base + batch.transitionState(k, j);
      const time = batch.transitionTime(k, j);
      if (!(this.times[at]! <= time)) this.times[at] = time; // NaN (not seen) compares false
    }
    const errorType = batch.errorTypeRef(k);
    if (errorType >= 0 && strings[errorType]) {
      this.errorType[slot] = strings[errorType];
      this.errorMessage[slot] = batch.errorMessage(k);
    }
    return this.settle(slot);
  }

  /** The head concludes the attempt failed (`errorType`); true when that made it final. */
  conclude(slot: number, errorType: string, message: string, timeMs: number): boolean {
    const base = slot * STATES;
    let latest = timeMs;
    for (let i = 1; i < STATES; i++) if (this.times[base + i]! > latest) latest = this.times[base + i]!;
    this.times[base + FAILED] = latest;
    this.errorType[slot] = errorType;
    this.errorMessage[slot] = message;
    this.flags[slot]! |= CONCLUDED;
    return this.settle(slot);
  }

  /** The attempt as a record (made for the caller). */
  record(slot: number): TaskAttempt {
    const base = slot * STATES;
    const stateTransitions: TaskAttempt['stateTransitions'] = [];
    for (let i = 1; i < STATES; i++) {
      const t = this.times[base + i]!;
      if (t === t) stateTransitions.push({ state: TASK_STATES[i]!, timeMs: t });
    }
    stateTransitions.sort((x, y) => x.timeMs - y.timeMs || STATE_INDEX[x.state]! - STATE_INDEX[y.state]!);
    const state: TaskState = TASK_STATES[this.state[slot]!]!;
    const info = this.info[slot];
    const known = (n: number) => (n === n ? n : undefined);
    const out: TaskAttempt = {
      taskId: this.taskId(slot), attemptNumber: this.attemptNumber[slot]!, name: info?.name ?? '', funcOrClassName: info?.funcOrClassName ?? '',
      type: info?.type ?? 'NORMAL_TASK', state, jobId: this.jobId[slot]!, stateTransitions,
      creationTimeMs: known(this.times[base + PENDING_ARGS_AVAIL]!) ?? stateTransitions[0]?.timeMs,
      startTimeMs: known(this.times[base + RUNNING]!),
      endTimeMs: state === 'FINISHED' || state === 'FAILED' ? this.times[base + STATE_INDEX[state]!] : undefined,
    };
    if (info?.actorId) out.actorId = info.actorId;
    if (info?.parentTaskId) out.parentTaskId = info.parentTaskId;
    if (info && Object.keys(info.requiredResources).length > 0) out.requiredResources = { ...info.requiredResources };
    if (info?.placementGroupId) out.placementGroupId = info.placementGroupId;
    if (this.nodeId[slot]) out.nodeId = this.nodeId[slot];
    if (this.workerId[slot]) out.workerId = this.workerId[slot];
    if (this.workerPid[slot]) out.workerPid = this.workerPid[slot];
    if (state === 'FAILED' && this.errorType[slot]) {
      out.errorType = this.errorType[slot];
      out.errorMessage = this.errorMessage[slot] ?? '';
    }
    if ((this.flags[slot]! & HAS_LOG) !== 0) out.log = this.logOf(slot);
    return out;
  }

  private logOf(slot: number): TaskLogLocation {
    const files = workerLogFiles(this.workerId[slot]!, this.workerPid[slot]!);
    const at = slot * 4;
    const offset = (n: number) => (n >= 0 ? n : undefined);
    return {
      nodeId: this.nodeId[slot] ?? '', stdoutFile: files.stdout, stderrFile: files.stderr,
      stdoutStart: offset(this.log[at]!), stdoutEnd: offset(this.log[at + 1]!), stderrStart: offset(this.log[at + 2]!), stderrEnd: offset(this.log[at + 3]!),
    };
  }

  /** Its state after a change: the furthest reached (of two ends, the later; FAILED on a tie). True when it just became final. */
  private settle(slot: number): boolean {
    const base = slot * STATES;
    const finished = this.times[base + FINISHED]!;
    const failed = this.times[base + FAILED]!;
    let state = 0;
    if (finished === finished || failed === failed) {
      state = failed !== failed ? FINISHED : finished !== finished || failed >= finished ? FAILED : FINISHED;
    } else {
      for (let i = RUNNING; i > 0; i--) {
        if (this.times[base + i] === this.times[base + i]) {
          state = i;
          break;
        }
      }
    }
    this.state[slot] = state;
    if (state < FINISHED || (this.flags[slot]! & QUEUED_FINAL) !== 0) return false;
    this.flags[slot]! |= QUEUED_FINAL;
    return true;
  }
}

/** Two reports of what a task is: fields one leaves empty do not erase the other's (an actor's host does not know its creator's task). */
function mergeInfo(had: TaskInfo | undefined, got: TaskInfo): TaskInfo {
  if (!had || had === got) return got;
  return {
    name: got.name || had.name, funcOrClassName: got.funcOrClassName || had.funcOrClassName, type: got.type,
    parentTaskId: got.parentTaskId || had.parentTaskId, actorId: got.actorId || had.actorId, placementGroupId: got.placementGroupId || had.placementGroupId,
    requiredResources: Object.keys(got.requiredResources).length > 0 ? got.requiredResources : had.requiredResources,
  };
}
