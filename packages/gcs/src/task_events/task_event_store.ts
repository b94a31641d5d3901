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
import { isFinalTaskState, taskStateRank, TASK_STATES, type TaskAttempt, type TaskState, type TaskType } from '@rayts/common';

/** What an attempt is: reported by its owner (and by an actor's host for its creation). */
export interface AttemptInfo {
  name: string;
  funcOrClassName: string;
  type: TaskType;
  parentTaskId: string;
  actorId: string;
  requiredResources: Record<string, number>;
  placementGroupId: string;
}

/** One process's report about one attempt, validated (task_event_service.ts parses it). Empty strings and -1 offsets mean "not said". */
export interface AttemptReport {
  taskId: string;
  attemptNumber: number;
  jobId: string;
  info?: AttemptInfo;
  transitions: { state: TaskState; timeMs: number }[];
  nodeId: string;
  workerId: string;
  workerPid: number;
  errorType: string;
  errorMessage: string;
  log?: { stdoutFile: string; stderrFile: string; stdoutStart: number; stdoutEnd: number; stderrStart: number; stderrEnd: number };
}

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
  readonly key: string;
  readonly attempt: TaskAttempt;
  hasInfo: boolean;
  /** Its final state is the head's conclusion (job finished, node died), not a report. */
  concluded: boolean;
}

const keyOf = (taskId: string, attemptNumber: number) => `${taskId}:${attemptNumber}`;
const ORDER: Record<string, number> = Object.fromEntries(TASK_STATES.map((s, i) => [s, i]));

export class TaskEventStore {
  /** Every stored attempt, oldest first. */
  private readonly entries = new Map<string, Entry>();
  /** The final ones, in the order they became final: eviction takes the first. */
  private readonly finals = new Map<string, Entry>();
  private readonly byTask = new Map<string, Entry[]>();
  private droppedAtWorkers = 0;
  private evictedAtGcs = 0;

  constructor(private readonly options: { maxStored: number }, private readonly now: () => number = Date.now) {
    if (!(options.maxStored >= 1)) throw new RangeError(`RAYTS_TASK_EVENTS_MAX_STORED must be at least 1, got ${options.maxStored}`);
  }

  /** Merges a batch of reports; `numDropped` events were dropped by their sender. */
  add(reports: readonly AttemptReport[], numDropped = 0): void {
    this.droppedAtWorkers += numDropped;
    for (const report of reports) this.merge(report);
    this.evictBeyondBound();
  }

  /** Every stored attempt, oldest first. */
  *list(): Iterable<TaskAttempt> {
    for (const e of this.entries.values()) yield e.attempt;
  }

  /** The stored attempts of one task, by attempt number. */
  attemptsOf(taskId: string): TaskAttempt[] {
    return (this.byTask.get(taskId) ?? []).map((e) => e.attempt).sort((a, b) => a.attemptNumber - b.attemptNumber);
  }

  stats(): TaskEventStats {
    return { stored: this.entries.size, droppedAtWorkers: this.droppedAtWorkers, evictedAtGcs: this.evictedAtGcs };
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
    for (const e of this.entries.values()) {
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

  private merge(r: AttemptReport): void {
    const key = keyOf(r.taskId, r.attemptNumber);
    let e = this.entries.get(key);
    if (!e) {
      e = { key, attempt: { taskId: r.taskId, attemptNumber: r.attemptNumber, name: '', funcOrClassName: '', type: 'NORMAL_TASK', state: 'NIL', jobId: r.jobId, stateTransitions: [] }, hasInfo: false, concluded: false };
      this.entries.set(key, e);
      const siblings = this.byTask.get(r.taskId);
      if (siblings) {
        const known = siblings.find((s) => s.hasInfo);
        if (known) copyInfo(e, known.attempt);
        siblings.push(e);
      } else {
        this.byTask.set(r.taskId, [e]);
      }
    }
    const a = e.attempt;
    if (r.info) {
      applyInfo(e, r.info);
      // Later attempts of a task may be reported without it (an actor restarted by the head).
      for (const s of this.byTask.get(r.taskId)!) if (!s.hasInfo) copyInfo(s, a);
    }
    if (r.nodeId) a.nodeId = r.nodeId;
    if (r.workerId) a.workerId = r.workerId;
    if (r.workerPid) a.workerPid = r.workerPid;
    if (r.log) mergeLog(a, r.log);
    if (e.concluded && r.transitions.some((t) => isFinalTaskState(t.state))) {
      // A real end arrived: the head's conclusion goes.
      a.stateTransitions.splice(a.stateTransitions.findIndex((t) => t.state === 'FAILED'), 1);
      a.errorType = undefined;
      a.errorMessage = undefined;
      e.concluded = false;
    }
    for (const t of r.transitions) {
      const seen = a.stateTransitions.find((x) => x.state === t.state);
      if (!seen) a.stateTransitions.push({ state: t.state, timeMs: t.timeMs });
      else if (t.timeMs < seen.timeMs) seen.timeMs = t.timeMs;
    }
    if (r.errorType) {
      a.errorType = r.errorType;
      a.errorMessage = r.errorMessage;
    }
    this.settle(e);
  }

  /** Recomputes the attempt's state and times after a change, and its place in the eviction order. */
  private settle(e: Entry): void {
    const a = e.attempt;
    a.stateTransitions.sort((x, y) => x.timeMs - y.timeMs || ORDER[x.state]! - ORDER[y.state]!);
    let state: TaskState = 'NIL';
    let endTimeMs: number | undefined;
    for (const t of a.stateTransitions) {
      const rank = taskStateRank(t.state);
      if (rank > taskStateRank(state) || (rank === taskStateRank(state) && isFinalTaskState(t.state))) {
        state = t.state;
        if (isFinalTaskState(t.state)) endTimeMs = t.timeMs;
      }
    }
    a.state = state;
    a.creationTimeMs = (a.stateTransitions.find((t) => t.state === 'PENDING_ARGS_AVAIL') ?? a.stateTransitions[0])?.timeMs;
    a.startTimeMs = a.stateTransitions.find((t) => t.state === 'RUNNING')?.timeMs;
    a.endTimeMs = endTimeMs;
    if (a.log) a.log.nodeId = a.nodeId ?? '';
    if (isFinalTaskState(state)) {
      if (!this.finals.has(e.key)) this.finals.set(e.key, e);
    } else {
      this.finals.delete(e.key);
    }
  }

  private evictBeyondBound(): void {
    while (this.entries.size > this.options.maxStored) {
      const victim = this.finals.values().next().value ?? this.entries.values().next().value!;
      this.entries.delete(victim.key);
      this.finals.delete(victim.key);
      const siblings = this.byTask.get(victim.attempt.taskId)!;
      siblings.splice(siblings.indexOf(victim), 1);
      if (siblings.length === 0) this.byTask.delete(victim.attempt.taskId);
      this.evictedAtGcs += 1;
    }
  }
}

function lastTime(a: TaskAttempt): number {
  return a.stateTransitions.reduce((t, x) => Math.max(t, x.timeMs), 0);
}

function applyInfo(e: Entry, info: AttemptInfo): void {
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

function mergeLog(a: TaskAttempt, log: NonNullable<AttemptReport['log']>): void {
  const l = (a.log ??= { nodeId: a.nodeId ?? '', stdoutFile: log.stdoutFile, stderrFile: log.stderrFile });
  if (log.stdoutFile) l.stdoutFile = log.stdoutFile;
  if (log.stderrFile) l.stderrFile = log.stderrFile;
  if (log.stdoutStart >= 0) l.stdoutStart = log.stdoutStart;
  if (log.stdoutEnd >= 0) l.stdoutEnd = log.stdoutEnd;
  if (log.stderrStart >= 0) l.stderrStart = log.stderrStart;
  if (log.stderrEnd >= 0) l.stderrEnd = log.stderrEnd;
}
