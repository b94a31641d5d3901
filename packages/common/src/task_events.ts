/**
 * The vocabulary of task events, shared by the processes that report them (core workers), the head
 * that stores them and whoever reads them (CLI, dashboard): Ray's task states and types, one attempt
 * of a task as the head keeps it, and where a worker's output files are.
 */
import type { TaskAttemptInfo__Output } from './generated/rayts/v1/TaskAttemptInfo.js';
import { PLACEMENT_GROUP_ID_BYTES } from './scheduling/bundle_resources.js';
import { isHexId } from './ids.js';

/** Ray's TaskStatus, in lifecycle order (a later state is further along). */
export const TASK_STATES = ['NIL', 'PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'SUBMITTED_TO_WORKER', 'RUNNING', 'FINISHED', 'FAILED'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const TASK_TYPES = ['NORMAL_TASK', 'ACTOR_CREATION_TASK', 'ACTOR_TASK', 'DRIVER_TASK'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

const RANK: Record<string, number> = Object.fromEntries(TASK_STATES.map((s, i) => [s, Math.min(i, 5)]));

/** How far along the lifecycle a state is; FINISHED and FAILED share the last rank. */
export function taskStateRank(state: TaskState): number {
  return RANK[state] ?? 0;
}

export function isFinalTaskState(state: TaskState): boolean {
  return state === 'FINISHED' || state === 'FAILED';
}

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && value in RANK;
}

export function isTaskType(value: unknown): value is TaskType {
  return typeof value === 'string' && (TASK_TYPES as readonly string[]).includes(value);
}

/** Most attempts one AddTaskEvents call may carry (senders split larger reports). */
export const MAX_TASK_EVENTS_PER_CALL = 10_000;

/** Where an attempt's output is: files of `nodeId`'s log directory, byte offsets at its start and end. */
export interface TaskLogLocation {
  nodeId: string;
  stdoutFile: string;
  stderrFile: string;
  stdoutStart?: number;
  /** Absent while the attempt runs (or when its end was not reported). */
  stdoutEnd?: number;
  stderrStart?: number;
  stderrEnd?: number;
}

/** One attempt of a task, every report about it merged (what the head's TaskEventStore keeps). */
export interface TaskAttempt {
  taskId: string;
  attemptNumber: number;
  name: string;
  funcOrClassName: string;
  type: TaskType;
  /** The furthest state reached (of two final states, the later reported). */
  state: TaskState;
  jobId: string;
  actorId?: string;
  parentTaskId?: string;
  nodeId?: string;
  workerId?: string;
  workerPid?: number;
  /** With FAILED: Ray's error type (TASK_EXECUTION_EXCEPTION, WORKER_DIED, NODE_DIED, TASK_CANCELLED, …). */
  errorType?: string;
  errorMessage?: string;
  requiredResources?: Record<string, number>;
  placementGroupId?: string;
  /** In time order, one per state reached (its first report). */
  stateTransitions: { state: TaskState; timeMs: number }[];
  creationTimeMs?: number;
  startTimeMs?: number;
  endTimeMs?: number;
  log?: TaskLogLocation;
}

/**
 * The names of a worker's stdout and stderr files in its node's log directory (`rayts logs` lists
 * them so): the raylet's worker pool creates them, the worker reports offsets in them.
 */
export function workerLogFiles(workerId: string, pid: number): { stdout: string; stderr: string } {
  return { stdout: `worker-${workerId}-${pid}.out`, stderr: `worker-${workerId}-${pid}.err` };
}

/** The placement group named by a placement-group resource (`CPU_group_<pg>`, `CPU_group_<i>_<pg>`), or ''. */
export function placementGroupOfResources(resources: Record<string, number> | undefined): string {
  if (!resources) return '';
  for (const name in resources) {
    if (!name.includes('_group_')) continue;
    const id = name.slice(name.lastIndexOf('_') + 1);
    if (isHexId(id, PLACEMENT_GROUP_ID_BYTES)) return id;
  }
  return '';
}

/** A TaskAttemptInfo message (GetTaskEvents) as a TaskAttempt: zero and empty fields become absent. */
export function taskAttemptFromInfo(m: TaskAttemptInfo__Output): TaskAttempt {
  const out: TaskAttempt = {
    taskId: m.taskId, attemptNumber: m.attemptNumber, name: m.name, funcOrClassName: m.funcOrClassName,
    type: m.type as TaskType, state: m.state as TaskState, jobId: m.jobId,
    stateTransitions: m.stateTransitions.map((t) => ({ state: t.state as TaskState, timeMs: Number(t.timeMs) })),
  };
  const optional: [keyof TaskAttempt, unknown][] = [
    ['actorId', m.actorId], ['parentTaskId', m.parentTaskId], ['nodeId', m.nodeId], ['workerId', m.workerId], ['workerPid', m.workerPid],
    ['errorType', m.errorType], ['errorMessage', m.errorMessage], ['placementGroupId', m.placementGroupId],
    ['creationTimeMs', Number(m.creationTimeMs)], ['startTimeMs', Number(m.startTimeMs)], ['endTimeMs', Number(m.endTimeMs)],
  ];
  for (const [key, value] of optional) if (value) (out as unknown as Record<string, unknown>)[key] = value;
  if (Object.keys(m.requiredResources).length > 0) out.requiredResources = Object.fromEntries(Object.entries(m.requiredResources).map(([k, v]) => [k, Number(v)]));
  if (m.log) {
    const offset = (n: number | string) => (Number(n) >= 0 ? Number(n) : undefined);
    out.log = {
      nodeId: m.nodeId, stdoutFile: m.log.stdoutFile, stderrFile: m.log.stderrFile,
      stdoutStart: offset(m.log.stdoutStart), stdoutEnd: offset(m.log.stdoutEnd), stderrStart: offset(m.log.stderrStart), stderrEnd: offset(m.log.stderrEnd),
    };
  }
  return out;
}
