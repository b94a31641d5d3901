/**
 * A task-event report: the events a TaskEventBuffer collected since its last report, grouped into one
 * TaskEvents message per attempt (what the head's AddTaskEvents takes). Runs once per report, off the
 * task path; the buffer's ring (EventColumns) is read in place.
 */
import { TASK_STATES, placementGroupOfResources, workerLogFiles, type TaskEventsMsg, type TaskLogLocationMsg, type TaskState, type TaskStaticInfoMsg, type TaskType } from '@rayts/common';
import type { TaskFailure, TaskOutcome } from './protocol/messages.js';

/** Who recorded an event: the owner (a state, or an outcome), the executing process, or the executor's hand-over mark. */
export const EventKind = { Owner: 0, Outcome: 1, Executor: 2, Handed: 3 } as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** What a task is, as its owner (or an actor's host, for its creation) knows it. */
export interface TaskStaticInfo {
  type: TaskType;
  name: string;
  funcOrClassName: string;
  /** The task that submitted it ('' when unknown). */
  parentTaskId: string;
  actorId?: string;
  requiredResources?: Record<string, number>;
}

/** What an actor's creation task is (its creator and its host report it alike; Ray names it `Class.__init__`). */
export function actorCreationInfo(className: string, actorId: string, parentTaskId: string, requiredResources?: Record<string, number>): TaskStaticInfo {
  const name = `${className}.constructor`;
  return { type: 'ACTOR_CREATION_TASK', name, funcOrClassName: name, parentTaskId, actorId, requiredResources };
}

/** Why an attempt failed, when no outcome says it: Ray's error type and a message, and where it ran if known. */
export interface OwnerFailure {
  errorType: string;
  message: string;
  nodeId?: string;
  workerId?: string;
  workerPid?: number;
}

/** This process as the executor of what it reports running: node, worker id, pid, output files (workers only). */
export interface ExecutorIdentity {
  nodeId: string;
  workerId: string;
  pid: number;
  logFiles?: { stdout: string; stderr: string };
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
  /** TaskStaticInfo, OwnerFailure, TaskOutcome (Outcome events) or nothing. */
  extra: unknown[];
}

const MAX_MESSAGE = 4000;

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

function isFailure(extra: unknown): extra is OwnerFailure {
  return typeof extra === 'object' && extra !== null && 'errorType' in extra;
}

function infoMsg(info: TaskStaticInfo): TaskStaticInfoMsg {
  return {
    name: info.name, funcOrClassName: info.funcOrClassName, type: info.type, parentTaskId: info.parentTaskId, actorId: info.actorId ?? '',
    requiredResources: info.requiredResources ?? {}, placementGroupId: placementGroupOfResources(info.requiredResources),
  };
}

function setError(m: TaskEventsMsg, errorType: string, message: string): void {
  m.errorType = errorType;
  m.errorMessage = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
}

function logOf(m: TaskEventsMsg, files: { stdout: string; stderr: string }): TaskLogLocationMsg {
  m.log ??= { stdoutFile: files.stdout, stderrFile: files.stderr, stdoutStart: -1, stdoutEnd: -1, stderrStart: -1, stderrEnd: -1 };
  return m.log;
}

function addOwner(m: TaskEventsMsg, state: TaskState, timeMs: number, extra: unknown): void {
  m.transitions!.push({ state, timeMs });
  if (isFailure(extra)) {
    setError(m, extra.errorType, extra.message);
    if (extra.nodeId) m.nodeId = extra.nodeId;
    if (extra.workerId) m.workerId = extra.workerId;
    if (extra.workerPid) m.workerPid = extra.workerPid;
  } else if (extra) {
    m.info = infoMsg(extra as TaskStaticInfo);
  }
}

/** The outcome tells how the attempt ended and, through `run`, where and when it ran and its output. */
function addOutcome(m: TaskEventsMsg, o: TaskOutcome, receivedMs: number): void {
  const run = o.run;
  if (o.nodeId) m.nodeId = o.nodeId;
  let endMs = receivedMs;
  if (run) {
    if (run.workerId) m.workerId = run.workerId;
    if (run.workerPid) m.workerPid = run.workerPid;
    if (run.receivedMs) m.transitions!.push({ state: 'SUBMITTED_TO_WORKER', timeMs: run.receivedMs });
    if (run.startMs) m.transitions!.push({ state: 'RUNNING', timeMs: run.startMs });
    if (run.endMs) endMs = run.endMs;
    if (run.workerId && run.stdoutStart !== undefined && run.stdoutStart >= 0) {
      const log = logOf(m, workerLogFiles(run.workerId, run.workerPid));
      log.stdoutStart = run.stdoutStart;
      log.stdoutEnd = run.stdoutEnd ?? -1;
      log.stderrStart = run.stderrStart ?? -1;
      log.stderrEnd = run.stderrEnd ?? -1;
    }
  }
  m.transitions!.push({ state: o.failure ? 'FAILED' : 'FINISHED', timeMs: endMs });
  if (o.failure) {
    const f = ownerFailure(o.failure);
    setError(m, f.errorType, f.message);
  }
}

function addExecutor(m: TaskEventsMsg, state: TaskState, timeMs: number, stdoutAt: number, stderrAt: number, extra: unknown, self: ExecutorIdentity): void {
  m.transitions!.push({ state, timeMs });
  if (isFailure(extra)) setError(m, extra.errorType, extra.message);
  else if (extra) m.info = infoMsg(extra as TaskStaticInfo);
  if (state === 'SUBMITTED_TO_WORKER') return; // it may still be handed back to the raylet: where it runs is told at RUNNING
  m.nodeId = self.nodeId;
  m.workerId = self.workerId;
  m.workerPid = self.pid;
  if (!self.logFiles || (stdoutAt < 0 && stderrAt < 0)) return;
  const log = logOf(m, self.logFiles);
  if (state === 'RUNNING') {
    log.stdoutStart = stdoutAt;
    log.stderrStart = stderrAt;
  } else {
    log.stdoutEnd = stdoutAt;
    log.stderrEnd = stderrAt;
  }
}

/** One message per attempt, in order of each attempt's first event, from the ring slots `order`. */
export function buildReport(c: EventColumns, order: number[], self: ExecutorIdentity): TaskEventsMsg[] {
  // Attempts whose outcome left for their owner: what this process saw of them running is the owner's to report.
  let handed: Set<string> | undefined;
  for (const i of order) if (c.kind[i] === EventKind.Handed) (handed ??= new Set()).add(`${c.taskId[i]}:${c.attempt[i]}`);
  const drafts = new Map<string, TaskEventsMsg>();
  for (const i of order) {
    const kind = c.kind[i];
    if (kind === EventKind.Handed) continue;
    const key = `${c.taskId[i]}:${c.attempt[i]}`;
    if (kind === EventKind.Executor && handed?.has(key)) continue;
    let m = drafts.get(key);
    if (!m) {
      m = { taskId: c.taskId[i]!, attemptNumber: c.attempt[i]!, jobId: c.jobId[i]!, transitions: [] };
      drafts.set(key, m);
    }
    const state = TASK_STATES[c.state[i]!]!;
    if (kind === EventKind.Owner) addOwner(m, state, c.time[i]!, c.extra[i]);
    else if (kind === EventKind.Outcome) addOutcome(m, c.extra[i] as TaskOutcome, c.time[i]!);
    else addExecutor(m, state, c.time[i]!, c.a[i]!, c.b[i]!, c.extra[i], self);
  }
  return [...drafts.values()];
}
