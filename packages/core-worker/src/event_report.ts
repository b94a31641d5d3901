/**
 * A task-event report: what a TaskEventBuffer collected since its last report, as one AttemptEvents
 * record per attempt (task_event_codec.ts puts them on the wire). Runs once per report, off the task
 * path: the buffer's ring (EventColumns) is read in place, and the attempts running in this worker
 * are read from their AttemptRun, which the executor fills as they go.
 */
import { TASK_STATES, placementGroupOfResources, type AttemptEvents, type TaskInfo, type TaskState } from '@rayts/common';
import type { AttemptRun, TaskFailure } from './protocol/messages.js';

/** Who recorded a ring event: the owner (a state), the owner (an outcome), or the executing process (a whole attempt it alone can tell). */
export const EventKind = { Owner: 0, Outcome: 1, Executor: 2 } as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Why an attempt failed, when no outcome says it: Ray's error type and a message, and where it ran if known. */
export interface OwnerFailure {
  errorType: string;
  message: string;
  nodeId?: string;
  workerId?: string;
  workerPid?: number;
}

/** This process as the executor of what it reports running: node, worker id, pid, and whether its output goes to log files. */
export interface ExecutorIdentity {
  nodeId: string;
  workerId: string;
  pid: number;
  /** stdout/stderr are the worker's log files (offsets in them mean something). */
  logsToFiles: boolean;
}

/** What an owner keeps of an outcome until the report (not its value). */
export interface OutcomeEnd {
  nodeId: string;
  run?: AttemptRun;
  failure?: TaskFailure;
}

/** An attempt being executed here, reported while it runs (once per state it reaches). */
export interface TrackedAttempt {
  taskId: string;
  attempt: number;
  jobId: string;
  run: AttemptRun;
  /** What was reported of it already: 0 nothing, 1 SUBMITTED_TO_WORKER, 2 RUNNING too. */
  reported: 0 | 1 | 2;
}

/** The buffer's ring, one column per field (slot i of every column is one event). */
export interface EventColumns {
  size: number;
  kind: Uint8Array;
  /** Index in TASK_STATES. */
  state: Uint8Array;
  attempt: Uint32Array;
  time: Float64Array;
  /** Executor events: offsets in the stdout / stderr log files (-1 = none). */
  a: Float64Array;
  b: Float64Array;
  taskId: string[];
  jobId: string[];
  /** TaskInfo, OwnerFailure, OutcomeEnd (Outcome events) or nothing. */
  extra: unknown[];
}

const MAX_MESSAGE = 4000;
const MAX_NAME = 500;

/** Ray's ErrorType for a failure as the core worker knows it. */
export function errorTypeOf(failure: Pick<TaskFailure, 'type' | 'errorName'>): string {
  switch (failure.type) {
    case 'APPLICATION': return 'TASK_EXECUTION_EXCEPTION';
    case 'WORKER_DIED': return failure.errorName === 'OutOfMemoryError' ? 'OUT_OF_MEMORY' : 'WORKER_DIED';
    case 'NODE_DIED': return 'NODE_DIED';
    case 'UNSCHEDULABLE': return 'TASK_UNSCHEDULABLE_ERROR';
    // The task ran; its value could not be encoded (Ray raises that inside the task).
    case 'SERIALIZATION': return 'TASK_EXECUTION_EXCEPTION';
    case 'CANCELLED': return 'TASK_CANCELLED';
    case 'ACTOR_DIED': return 'ACTOR_DIED';
    case 'ACTOR_UNAVAILABLE': return 'ACTOR_UNAVAILABLE';
  }
}

/** A failure as an owner reports it (the message with the error's class for what task code threw). */
export function ownerFailure(failure: TaskFailure, where?: Pick<OwnerFailure, 'nodeId' | 'workerId' | 'workerPid'>): OwnerFailure {
  const message = failure.type === 'APPLICATION' || failure.type === 'SERIALIZATION' ? `${failure.errorName ?? 'Error'}: ${failure.message}` : failure.message;
  return { errorType: errorTypeOf(failure), message, ...where };
}

/** What a task is, for its events (its placement group read from its resources). */
export function taskInfo(type: TaskInfo['type'], name: string, funcOrClassName: string, parentTaskId: string, requiredResources: Record<string, number> = {}, actorId = ''): TaskInfo {
  return {
    type, name: cut(name, MAX_NAME), funcOrClassName: cut(funcOrClassName, MAX_NAME), parentTaskId, actorId,
    requiredResources, placementGroupId: placementGroupOfResources(requiredResources),
  };
}

/** What an actor's creation task is (its creator and its host report it alike; Ray names it `Class.__init__`). */
export function actorCreationInfo(className: string, actorId: string, parentTaskId: string, requiredResources?: Record<string, number>): TaskInfo {
  const name = `${className}.constructor`;
  return taskInfo('ACTOR_CREATION_TASK', name, name, parentTaskId, requiredResources, actorId);
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isFailure(extra: unknown): extra is OwnerFailure {
  return typeof extra === 'object' && extra !== null && 'errorType' in extra;
}

function newRecord(taskId: string, attemptNumber: number, jobId: string): AttemptEvents {
  return { taskId, attemptNumber, jobId, transitions: [], nodeId: '', workerId: '', workerPid: 0, errorType: '', errorMessage: '' };
}

function setError(m: AttemptEvents, errorType: string, message: string): void {
  m.errorType = errorType;
  m.errorMessage = cut(message, MAX_MESSAGE);
}

function logOf(m: AttemptEvents): NonNullable<AttemptEvents['log']> {
  m.log ??= { stdoutStart: -1, stdoutEnd: -1, stderrStart: -1, stderrEnd: -1 };
  return m.log;
}

function addOwner(m: AttemptEvents, state: TaskState, timeMs: number, extra: unknown): void {
  m.transitions.push({ state, timeMs });
  if (isFailure(extra)) {
    setError(m, extra.errorType, extra.message);
    if (extra.nodeId) m.nodeId = extra.nodeId;
    if (extra.workerId) m.workerId = extra.workerId;
    if (extra.workerPid) m.workerPid = extra.workerPid;
  } else if (extra) {
    m.info = extra as TaskInfo;
  }
}

/** The outcome tells how the attempt ended and, through `run`, where and when it ran and its output. */
function addOutcome(m: AttemptEvents, o: OutcomeEnd, receivedMs: number): void {
  const run = o.run;
  if (o.nodeId) m.nodeId = o.nodeId;
  let endMs = receivedMs;
  if (run) {
    if (run.workerId) m.workerId = run.workerId;
    if (run.workerPid) m.workerPid = run.workerPid;
    if (run.receivedMs) m.transitions.push({ state: 'SUBMITTED_TO_WORKER', timeMs: run.receivedMs });
    if (run.startMs) m.transitions.push({ state: 'RUNNING', timeMs: run.startMs });
    if (run.endMs) endMs = run.endMs;
    if (run.stdoutStart !== undefined && run.stdoutStart >= 0) {
      m.log = { stdoutStart: run.stdoutStart, stdoutEnd: run.stdoutEnd ?? -1, stderrStart: run.stderrStart ?? -1, stderrEnd: run.stderrEnd ?? -1 };
    }
  }
  m.transitions.push({ state: o.failure ? 'FAILED' : 'FINISHED', timeMs: endMs });
  if (o.failure) {
    const f = ownerFailure(o.failure);
    setError(m, f.errorType, f.message);
  }
}

function where(m: AttemptEvents, self: ExecutorIdentity): void {
  m.nodeId = self.nodeId;
  m.workerId = self.workerId;
  m.workerPid = self.pid;
}

function addExecutor(m: AttemptEvents, state: TaskState, timeMs: number, stdoutAt: number, stderrAt: number, extra: unknown, self: ExecutorIdentity): void {
  m.transitions.push({ state, timeMs });
  if (isFailure(extra)) setError(m, extra.errorType, extra.message);
  else if (extra) m.info = extra as TaskInfo;
  if (state === 'SUBMITTED_TO_WORKER') return; // where it runs is told at RUNNING
  where(m, self);
  if (!self.logsToFiles || (stdoutAt < 0 && stderrAt < 0)) return;
  const log = logOf(m);
  if (state === 'RUNNING') {
    log.stdoutStart = stdoutAt;
    log.stderrStart = stderrAt;
  } else {
    log.stdoutEnd = stdoutAt;
    log.stderrEnd = stderrAt;
  }
}

/** What is new of an attempt running here (nothing when its states were reported already). */
function trackedRecord(t: TrackedAttempt, self: ExecutorIdentity): AttemptEvents | undefined {
  const { run } = t;
  const reach = run.startMs ? 2 : 1;
  if (t.reported >= reach) return undefined;
  const m = newRecord(t.taskId, t.attempt, t.jobId);
  if (t.reported < 1 && run.receivedMs) m.transitions.push({ state: 'SUBMITTED_TO_WORKER', timeMs: run.receivedMs });
  if (reach === 2) {
    m.transitions.push({ state: 'RUNNING', timeMs: run.startMs! });
    where(m, self);
    if (self.logsToFiles && run.stdoutStart !== undefined && run.stdoutStart >= 0) {
      m.log = { stdoutStart: run.stdoutStart, stdoutEnd: -1, stderrStart: run.stderrStart ?? -1, stderrEnd: -1 };
    }
  }
  t.reported = reach;
  return m;
}

/**
 * One record per attempt: from the ring slots `order` (in order of each attempt's first event), then
 * what is new of the attempts running here.
 */
export function buildReport(c: EventColumns, order: number[], tracked: Iterable<TrackedAttempt>, self: ExecutorIdentity): AttemptEvents[] {
  const records: AttemptEvents[] = [];
  // By task id; a second attempt of a task in the same report (a retry) goes under task id + attempt.
  const byTask = new Map<string, AttemptEvents>();
  for (const i of order) {
    const taskId = c.taskId[i]!;
    const attempt = c.attempt[i]!;
    let m = byTask.get(taskId);
    if (m && m.attemptNumber !== attempt) m = byTask.get(`${taskId}:${attempt}`);
    if (!m) {
      m = newRecord(taskId, attempt, c.jobId[i]!);
      byTask.set(byTask.has(taskId) ? `${taskId}:${attempt}` : taskId, m);
      records.push(m);
    }
    const state = TASK_STATES[c.state[i]!]!;
    const kind = c.kind[i];
    if (kind === EventKind.Owner) addOwner(m, state, c.time[i]!, c.extra[i]);
    else if (kind === EventKind.Outcome) addOutcome(m, c.extra[i] as OutcomeEnd, c.time[i]!);
    else addExecutor(m, state, c.time[i]!, c.a[i]!, c.b[i]!, c.extra[i], self);
  }
  for (const t of tracked) {
    const m = trackedRecord(t, self);
    if (m) records.push(m);
  }
  return records;
}
