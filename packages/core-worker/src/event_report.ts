/**
 * The vocabulary of a core worker's task events (what a task is, why an attempt failed, who this
 * process is) and the report: each slot of the EventTable, and each attempt running here that a
 * report finds, is written as one AttemptEvents record through a scratch object that the encoder
 * copies at once, so a report makes no object per attempt.
 */
import { TASK_STATES, placementGroupOfResources, type AttemptEvents, type TaskInfo } from '@rayts/common';
import { EXECUTOR, STATE, STATES, type EventTable } from './event_table.js';
import { parseRun, type AttemptRun, type TaskFailure } from './protocol/messages.js';

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

/**
 * An attempt being executed here: its run (which the outcome takes to the owner, packed) and what
 * the buffer needs to report it while it runs (once per state it reaches). One object per attempt.
 */
export interface RunningAttempt extends AttemptRun {
  taskId: string;
  attempt: number;
  jobId: string;
  /** What was reported of it already: 0 nothing, 1 SUBMITTED_TO_WORKER, 2 RUNNING too. */
  reported: 0 | 1 | 2;
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
    case 'RUNTIME_ENV_SETUP_FAILED': return 'RUNTIME_ENV_SETUP_FAILED';
  }
}

/**
 * A failure as an owner reports it. For what task code threw: the error's class and message, then
 * the stack frames of the remote stack where it has them, as Ray's error_message carries the remote
 * traceback (the dashboard's task page shows them; the first line stays `Class: message`).
 */
export function ownerFailure(failure: TaskFailure, where?: Pick<OwnerFailure, 'nodeId' | 'workerId' | 'workerPid'>): OwnerFailure {
  const thrown = failure.type === 'APPLICATION' || failure.type === 'SERIALIZATION';
  let message = thrown ? `${failure.errorName ?? 'Error'}: ${failure.message}` : failure.message;
  const frames = thrown ? stackFrames(failure.stack) : '';
  if (frames) message += `\n${frames}`;
  return { errorType: errorTypeOf(failure), message: cut(message, MAX_MESSAGE), ...where };
}

/** The `    at …` lines of a V8 stack (its first lines repeat the message). */
function stackFrames(stack: string | undefined): string {
  return stack ? stack.split('\n').filter((line) => /^\s+at /.test(line)).join('\n') : '';
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

export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The object a report writes every record through (the encoder copies it at once). */
export class AttemptScratch {
  readonly record: AttemptEvents = {
    taskId: '', attemptNumber: 0, jobId: '', info: undefined, transitions: [], nodeId: '', workerId: '', workerPid: 0, errorType: '', errorMessage: '', log: undefined,
  };
  private readonly pool = Array.from({ length: STATES }, (): AttemptEvents['transitions'][number] => ({ state: 'NIL', timeMs: 0 }));
  private readonly log = { stdoutStart: -1, stdoutEnd: -1, stderrStart: -1, stderrEnd: -1 };

  constructor(private readonly self: ExecutorIdentity) {}

  private readonly runNumbers = new Float64Array(8);

  /** Slot `s` of the table as a record. */
  fromSlot(t: EventTable, s: number): AttemptEvents {
    if (t.run[s]) this.applyRun(t, s, t.run[s]!);
    const r = this.record;
    r.taskId = t.taskId[s]!;
    r.attemptNumber = t.attempt[s]!;
    r.jobId = t.jobId[s]!;
    r.info = t.info[s];
    r.transitions.length = 0;
    for (let i = 1; i < STATES; i++) {
      const time = t.times[s * STATES + i]!;
      if (time === time) this.transition(TASK_STATES[i]!, time);
    }
    r.errorType = t.errorType[s]!;
    r.errorMessage = t.errorMessage[s]!;
    const o = s * 4;
    let hasLog = t.offsets[o]! >= 0 || t.offsets[o + 1]! >= 0 || t.offsets[o + 2]! >= 0 || t.offsets[o + 3]! >= 0;
    if (t.kind[s] === EXECUTOR) {
      // Where it runs is this process, told once it runs.
      let running = false;
      for (const x of r.transitions) if (x.state !== 'SUBMITTED_TO_WORKER') running = true;
      this.where(running ? this.self.nodeId : '', running ? this.self.workerId : '', running ? this.self.pid : 0);
      hasLog &&= running && this.self.logsToFiles;
    } else {
      this.where(t.nodeId[s]!, t.workerId[s]!, t.workerPid[s]!);
      hasLog &&= r.workerId !== '';
    }
    r.log = hasLog ? this.offsets(t.offsets[o]!, t.offsets[o + 1]!, t.offsets[o + 2]!, t.offsets[o + 3]!) : undefined;
    return r;
  }

  /** The worker, times and log offsets an outcome's packed run brought, into slot `s` (its end time replaces the owner's receipt). */
  private applyRun(t: EventTable, s: number, packed: string): void {
    const n = this.runNumbers;
    const workerId = parseRun(packed, n);
    if (workerId === undefined) return;
    if (workerId) t.workerId[s] = workerId;
    if (n[0]) t.workerPid[s] = n[0];
    if (n[1]! > 0) t.time(s, STATE.SUBMITTED_TO_WORKER, n[1]!);
    if (n[2]! > 0) t.time(s, STATE.RUNNING, n[2]!);
    const base = s * STATES;
    if (n[3]! > 0) {
      if (t.times[base + STATE.FINISHED] === t.times[base + STATE.FINISHED]) t.times[base + STATE.FINISHED] = n[3]!;
      if (t.times[base + STATE.FAILED] === t.times[base + STATE.FAILED]) t.times[base + STATE.FAILED] = n[3]!;
    }
    if (n[4]! >= 0) {
      const o = s * 4;
      t.offsets[o] = n[4]!;
      t.offsets[o + 1] = n[5]!;
      t.offsets[o + 2] = n[6]!;
      t.offsets[o + 3] = n[7]!;
    }
  }

  /** What is new of an attempt running here, or undefined when its states were reported already. */
  fromTracked(a: RunningAttempt): AttemptEvents | undefined {
    const run = a;
    const reach = run.startMs ? 2 : 1;
    if (a.reported >= reach) return undefined;
    const r = this.record;
    r.taskId = a.taskId;
    r.attemptNumber = a.attempt;
    r.jobId = a.jobId;
    r.info = undefined;
    r.errorType = r.errorMessage = '';
    r.transitions.length = 0;
    if (a.reported < 1 && run.receivedMs) this.transition('SUBMITTED_TO_WORKER', run.receivedMs);
    r.log = undefined;
    if (reach === 2) {
      this.transition('RUNNING', run.startMs!);
      this.where(this.self.nodeId, this.self.workerId, this.self.pid);
      if (this.self.logsToFiles && run.stdoutStart !== undefined && run.stdoutStart >= 0) r.log = this.offsets(run.stdoutStart, -1, run.stderrStart ?? -1, -1);
    } else {
      this.where('', '', 0);
    }
    a.reported = reach;
    return r;
  }

  private transition(state: (typeof TASK_STATES)[number], timeMs: number): void {
    const t = this.pool[this.record.transitions.length]!;
    t.state = state;
    t.timeMs = timeMs;
    this.record.transitions.push(t);
  }

  private where(nodeId: string, workerId: string, workerPid: number): void {
    this.record.nodeId = nodeId;
    this.record.workerId = workerId;
    this.record.workerPid = workerPid;
  }

  private offsets(stdoutStart: number, stdoutEnd: number, stderrStart: number, stderrEnd: number): AttemptEvents['log'] {
    const l = this.log;
    l.stdoutStart = stdoutStart;
    l.stdoutEnd = stdoutEnd;
    l.stderrStart = stderrStart;
    l.stderrEnd = stderrEnd;
    return l;
  }
}
