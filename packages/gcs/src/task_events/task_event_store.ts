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
 * In memory only: a restarted head starts empty, as Ray's does.
 */
import {
  isFinalTaskState, taskStateRank, workerLogFiles, TASK_STATES, type AttemptEvents, type TaskAttempt, type TaskInfo, type TaskState,
} from '@rayts/common';

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

/** A stored attempt and what the store knows about it beyond the public record. */
interface Entry {
  readonly attempt: TaskAttempt;
  hasInfo: boolean;
  /** Its final state is the head's conclusion (job finished, node died), not a report. */
  concluded: boolean;
  evicted: boolean;
  /** In the queue of final attempts (eviction order) already. */
  queuedFinal: boolean;
}

const ORDER: Record<string, number> = Object.fromEntries(TASK_STATES.map((s, i) => [s, i]));

/** Entries in arrival order, removed lazily (an evicted entry is skipped when met at the front). */
class EntryQueue {
  private items: Entry[] = [];
  private head = 0;

  push(e: Entry): void {
    this.items.push(e);
  }

  /** The first entry `keep` accepts, dropping the ones before it that it refuses. */
  first(keep: (e: Entry) => boolean): Entry | undefined {
    while (this.head < this.items.length && !keep(this.items[this.head]!)) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return this.items[this.head];
  }

  *values(): Iterable<Entry> {
    for (let i = this.head; i < this.items.length; i++) if (!this.items[i]!.evicted) yield this.items[i]!;
  }
}

export class TaskEventStore {
  /** Every stored attempt, by task: most tasks have one attempt, kept without an array. */
  private readonly byTask = new Map<string, Entry | Entry[]>();
  /** Every stored attempt, oldest first. */
  private readonly arrivals = new EntryQueue();
  /** Attempts in the order they became final: eviction takes the first still final. */
  private readonly finals = new EntryQueue();
  private size = 0;
  private droppedAtWorkers = 0;
  private evictedAtGcs = 0;

  constructor(private readonly options: { maxStored: number }, private readonly now: () => number = Date.now) {
    if (!(options.maxStored >= 1)) throw new RangeError(`RAYTS_TASK_EVENTS_MAX_STORED must be at least 1, got ${options.maxStored}`);
  }

  /** Merges a batch of reports (validated); `numDropped` events were dropped by their sender. */
  add(reports: readonly AttemptReport[], numDropped = 0): void {
    this.droppedAtWorkers += numDropped;
    for (const report of reports) this.merge(report);
    this.evictBeyondBound();
  }

  /** Every stored attempt, oldest first. The records are the store's: read them, do not change them. */
  *list(): Iterable<TaskAttempt> {
    for (const e of this.arrivals.values()) yield e.attempt;
  }

  /** The stored attempts of one task, by attempt number. */
  attemptsOf(taskId: string): TaskAttempt[] {
    return this.siblings(taskId).map((e) => e.attempt).sort((a, b) => a.attemptNumber - b.attemptNumber);
  }

  private siblings(taskId: string): Entry[] {
    const found = this.byTask.get(taskId);
    return found === undefined ? [] : Array.isArray(found) ? found : [found];
  }

  stats(): TaskEventStats {
    return { stored: this.size, droppedAtWorkers: this.droppedAtWorkers, evictedAtGcs: this.evictedAtGcs };
  }

  /** The job ended: its attempts still in progress failed (Ray marks them so). Returns how many. */
  markJobFinished(jobId: string, timeMs = this.now()): number {
    return this.conclude((a) => a.jobId === jobId, 'WORKER_DIED',
      `the job ${jobId} finished (its driver exited or called shutdown) before this attempt did; marked failed by the head`, timeMs);
  }

  /** The node was declared dead: the attempts running there failed. Returns how many. */
  markNodeDead(nodeId: string, reason: string, timeMs = this.now()): number {
    return this.conclude((a) => a.nodeId === nodeId, 'NODE_DIED', `the node ${nodeId} running this attempt died${reason ? ` (${reason})` : ''}`, timeMs);
  }

  private conclude(match: (a: TaskAttempt) => boolean, errorType: string, message: string, timeMs: number): number {
    let n = 0;
    for (const e of this.arrivals.values()) {
      const a = e.attempt;
      if (isFinalTaskState(a.state) || !match(a)) continue;
      a.stateTransitions.push({ state: 'FAILED', timeMs: Math.max(timeMs, lastTime(a)) });
      a.errorType = errorType;
      a.errorMessage = message;
      e.concluded = true;
      this.settle(e);
      n += 1;
    }
    return n;
  }

  private entryFor(r: AttemptReport): Entry {
    const found = this.byTask.get(r.taskId);
    const siblings = found === undefined ? [] : Array.isArray(found) ? found : [found];
    for (const s of siblings) if (s.attempt.attemptNumber === r.attemptNumber) return s;
    const e: Entry = {
      // A new attempt takes the report's transitions (merge adds none twice).
      attempt: { taskId: r.taskId, attemptNumber: r.attemptNumber, name: '', funcOrClassName: '', type: 'NORMAL_TASK', state: 'NIL', jobId: r.jobId, stateTransitions: [] },
      hasInfo: false, concluded: false, evicted: false, queuedFinal: false,
    };
    // Later attempts of a task may be reported without what it is (an actor restarted by the head).
    const known = siblings.find((s) => s.hasInfo);
    if (known) copyInfo(e, known.attempt);
    if (found === undefined) this.byTask.set(r.taskId, e);
    else if (Array.isArray(found)) found.push(e);
    else this.byTask.set(r.taskId, [found, e]);
    this.arrivals.push(e);
    this.size += 1;
    return e;
  }

  private merge(r: AttemptReport): void {
    const e = this.entryFor(r);
    const a = e.attempt;
    if (r.info) {
      applyInfo(e, r.info);
      const found = this.byTask.get(r.taskId);
      if (Array.isArray(found)) for (const s of found) if (!s.hasInfo) copyInfo(s, a);
    }
    if (r.nodeId) a.nodeId = r.nodeId;
    if (r.workerId) a.workerId = r.workerId;
    if (r.workerPid) a.workerPid = r.workerPid;
    if (r.log && a.workerId && a.workerPid) mergeLog(a, r.log);
    if (e.concluded && r.transitions.some((t) => isFinalTaskState(t.state))) {
      // A real end arrived: the head's conclusion goes.
      a.stateTransitions.splice(a.stateTransitions.findIndex((t) => t.state === 'FAILED'), 1);
      a.errorType = undefined;
      a.errorMessage = undefined;
      e.concluded = false;
    }
    if (a.stateTransitions.length === 0 && !hasRepeats(r.transitions)) a.stateTransitions = r.transitions; // the decoded ones become the record's
    else for (const t of r.transitions) {
      const seen = a.stateTransitions.find((x) => x.state === t.state);
      if (!seen) a.stateTransitions.push(t);
      else if (t.timeMs < seen.timeMs) seen.timeMs = t.timeMs;
    }
    if (r.errorType) {
      a.errorType = r.errorType;
      a.errorMessage = r.errorMessage;
    }
    this.settle(e);
  }

  /** Recomputes the attempt's state and times after a change, and queues it for eviction once final. */
  private settle(e: Entry): void {
    const a = e.attempt;
    const ts = a.stateTransitions;
    let sorted = true;
    for (let i = 1; i < ts.length && sorted; i++) sorted = compareTransitions(ts[i - 1]!, ts[i]!) <= 0;
    if (!sorted) ts.sort(compareTransitions);
    let state: TaskState = 'NIL';
    let endTimeMs: number | undefined;
    let startTimeMs: number | undefined;
    let creationTimeMs: number | undefined;
    for (const t of ts) {
      const rank = taskStateRank(t.state);
      if (rank > taskStateRank(state) || (rank === taskStateRank(state) && isFinalTaskState(t.state))) {
        state = t.state;
        if (isFinalTaskState(t.state)) endTimeMs = t.timeMs;
      }
      if (t.state === 'RUNNING') startTimeMs = t.timeMs;
      if (t.state === 'PENDING_ARGS_AVAIL') creationTimeMs = t.timeMs;
    }
    a.state = state;
    a.creationTimeMs = creationTimeMs ?? ts[0]?.timeMs;
    a.startTimeMs = startTimeMs;
    a.endTimeMs = endTimeMs;
    if (a.log) a.log.nodeId = a.nodeId ?? '';
    if (isFinalTaskState(state) && !e.queuedFinal) {
      e.queuedFinal = true;
      this.finals.push(e);
    }
  }

  private evictBeyondBound(): void {
    while (this.size > this.options.maxStored) {
      const victim = this.finals.first((e) => !e.evicted && isFinalTaskState(e.attempt.state))
        ?? this.arrivals.first((e) => !e.evicted)!;
      victim.evicted = true;
      this.size -= 1;
      this.evictedAtGcs += 1;
      const { taskId } = victim.attempt;
      const found = this.byTask.get(taskId)!;
      if (!Array.isArray(found)) {
        this.byTask.delete(taskId);
      } else {
        found.splice(found.indexOf(victim), 1);
        if (found.length === 1) this.byTask.set(taskId, found[0]!);
      }
    }
  }
}

/** Whether a state appears twice (a report that does: its earliest time counts, as for separate reports). */
function hasRepeats(ts: readonly { state: TaskState }[]): boolean {
  for (let i = 1; i < ts.length; i++) for (let j = 0; j < i; j++) if (ts[i]!.state === ts[j]!.state) return true;
  return false;
}

function compareTransitions(x: { state: TaskState; timeMs: number }, y: { state: TaskState; timeMs: number }): number {
  return x.timeMs - y.timeMs || ORDER[x.state]! - ORDER[y.state]!;
}

function lastTime(a: TaskAttempt): number {
  return a.stateTransitions.reduce((t, x) => Math.max(t, x.timeMs), 0);
}

function applyInfo(e: Entry, info: TaskInfo): void {
  const a = e.attempt;
  // A field a report leaves empty does not erase what another said (an actor's host does not know its creator's task).
  if (info.name) a.name = info.name;
  if (info.funcOrClassName) a.funcOrClassName = info.funcOrClassName;
  a.type = info.type;
  if (info.parentTaskId) a.parentTaskId = info.parentTaskId;
  if (info.actorId) a.actorId = info.actorId;
  if (Object.keys(info.requiredResources).length > 0) a.requiredResources = info.requiredResources;
  if (info.placementGroupId) a.placementGroupId = info.placementGroupId;
  e.hasInfo = true;
}

function copyInfo(e: Entry, from: TaskAttempt): void {
  applyInfo(e, {
    name: from.name, funcOrClassName: from.funcOrClassName, type: from.type, parentTaskId: from.parentTaskId ?? '', actorId: from.actorId ?? '',
    requiredResources: from.requiredResources ?? {}, placementGroupId: from.placementGroupId ?? '',
  });
}

/** Offsets in the files of the worker that ran the attempt (its id and pid name them). */
function mergeLog(a: TaskAttempt, log: NonNullable<AttemptReport['log']>): void {
  if (!a.log) {
    const files = workerLogFiles(a.workerId!, a.workerPid!);
    a.log = { nodeId: a.nodeId ?? '', stdoutFile: files.stdout, stderrFile: files.stderr };
  }
  const l = a.log;
  if (log.stdoutStart >= 0) l.stdoutStart = log.stdoutStart;
  if (log.stdoutEnd >= 0) l.stdoutEnd = log.stdoutEnd;
  if (log.stderrStart >= 0) l.stderrStart = log.stderrStart;
  if (log.stderrEnd >= 0) l.stderrEnd = log.stderrEnd;
}
