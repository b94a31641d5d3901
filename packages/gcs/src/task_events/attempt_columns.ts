/**
 * The TaskEventStore's attempts in columns: slot i of every column is one attempt. Times, numbers
 * and offsets live in typed arrays; strings and infos are references shared with the decoded reports
 * (a batch's job, node, worker and info are one object each). So a stored attempt costs the garbage
 * collector its task id string and little else, where an object graph per attempt (record,
 * transitions, log) cost the head more than decoding and merging together.
 *
 * Slots are reused after an eviction; each has a generation, so a queue can keep a slot's handle
 * (generation and slot in one number) and tell later whether it still names the same attempt.
 */
import { TASK_STATES, workerLogFiles, type AttemptEvents, type TaskAttempt, type TaskInfo, type TaskLogLocation, type TaskState } from '@rayts/common';

const STATES = TASK_STATES.length;
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

  readonly taskId: (string | undefined)[] = [];
  readonly jobId: (string | undefined)[] = [];
  readonly nodeId: (string | undefined)[] = [];
  readonly workerId: (string | undefined)[] = [];
  readonly info: (TaskInfo | undefined)[] = [];
  readonly errorType: (string | undefined)[] = [];
  readonly errorMessage: (string | undefined)[] = [];
  /**
   * The numeric columns take their full size at once (about 100 bytes a slot: ~10 MB for 100,000),
   * so the head's footprint for task events is fixed from the start.
   */
  readonly attemptNumber: Uint32Array;
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

  /** A slot for a new attempt. */
  open(taskId: string, attemptNumber: number, jobId: string): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.highWater === this.capacity) throw new Error('the task event store is full: it evicts before that, so this is a bug');
      slot = this.highWater++;
    }
    this.taskId[slot] = taskId;
    this.jobId[slot] = jobId;
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
    this.taskId[slot] = this.jobId[slot] = this.nodeId[slot] = this.workerId[slot] = undefined;
    this.info[slot] = undefined;
    this.errorType[slot] = this.errorMessage[slot] = undefined;
    this.free.push(slot);
    this.live -= 1;
  }

  /** Merges a report into the attempt; true when that made it final (for the first time). */
  merge(slot: number, r: AttemptEvents): boolean {
    if (r.info) this.info[slot] = mergeInfo(this.info[slot], r.info);
    if (r.nodeId) this.nodeId[slot] = r.nodeId;
    if (r.workerId) this.workerId[slot] = r.workerId;
    if (r.workerPid) this.workerPid[slot] = r.workerPid;
    if (r.log && this.workerId[slot] && this.workerPid[slot]) {
      const at = slot * 4;
      const { stdoutStart, stdoutEnd, stderrStart, stderrEnd } = r.log;
      if (stdoutStart >= 0) this.log[at] = stdoutStart;
      if (stdoutEnd >= 0) this.log[at + 1] = stdoutEnd;
      if (stderrStart >= 0) this.log[at + 2] = stderrStart;
      if (stderrEnd >= 0) this.log[at + 3] = stderrEnd;
      this.flags[slot]! |= HAS_LOG;
    }
    const base = slot * STATES;
    if ((this.flags[slot]! & CONCLUDED) !== 0 && r.transitions.some((t) => t.state === 'FINISHED' || t.state === 'FAILED')) {
      // A real end arrived: the head's conclusion goes.
      this.times[base + FAILED] = NaN;
      this.errorType[slot] = this.errorMessage[slot] = undefined;
      this.flags[slot]! &= ~CONCLUDED;
    }
    for (const t of r.transitions) {
      const at = base + STATE_INDEX[t.state]!;
      const seen = this.times[at]!;
      if (!(seen <= t.timeMs)) this.times[at] = t.timeMs; // NaN (not seen) compares false
    }
    if (r.errorType) {
      this.errorType[slot] = r.errorType;
      this.errorMessage[slot] = r.errorMessage;
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
      taskId: this.taskId[slot]!, attemptNumber: this.attemptNumber[slot]!, name: info?.name ?? '', funcOrClassName: info?.funcOrClassName ?? '',
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
