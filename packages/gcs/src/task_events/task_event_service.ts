/**
 * gRPC handlers of TaskEventService. Every report is decoded (task_event_codec.ts, whose reader checks
 * the structure) and validated whole before any of it is stored: a batch with one bad field is refused
 * with INVALID_ARGUMENT naming the field and the attempt, so a token holder cannot poison the store
 * or make the head throw. Sizes are bounded (attempts per call, transitions per attempt, string
 * lengths, resources), which with the store's own bound keeps the head's memory bounded too.
 */
import * as grpc from '@grpc/grpc-js';
import {
  MAX_TASK_EVENTS_PER_CALL, NODE_ID_BYTES, PLACEMENT_GROUP_ID_BYTES, RpcError, TaskEventsFormatError, decodeTaskEvents, isHexId, raytsProto, require, unary,
  type AddTaskEventsRequest__Output, type AttemptEvents, type GetTaskEventsRequest__Output, type Logger, type TaskAttempt, type TaskAttemptInfoMsg, type TaskInfo, withRequestSchemas,
} from '@rayts/common';
import { taskEventServiceSchemas } from '../request_schemas.js';
import type { TaskEventStore } from './task_event_store.js';

const TASK_ID_BYTES = 28;
const ACTOR_ID_BYTES = 16;
const MAX_TRANSITIONS = 16;
const MAX_NAME = 512;
const MAX_ERROR_MESSAGE = 8192;
const MAX_RESOURCES = 64;
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
/** Latest time a report may carry (JavaScript's last date). */
const MAX_TIME_MS = 8.64e15;
const MAX_PID = 2 ** 22;
const DEFAULT_LIMIT = 10_000;
const MAX_LIMIT = 100_000;
const WORKER_ID = /^[A-Za-z0-9_-]{0,64}$/;
const ERROR_TYPE = /^[A-Z_]{0,64}$/;

const optionalHex = (value: string, bytes: number) => value === '' || isHexId(value, bytes);
const isJobId = (value: string) => /^[0-9a-f]{1,64}$/.test(value);
const isOffset = (n: number) => Number.isInteger(n) && n >= -1 && n <= MAX_OFFSET;

/** Why one decoded attempt record (the `i`th of its batch) is not valid, or undefined when it is. Messages are built only for a bad record. */
function problemOf(m: AttemptEvents, i: number): string | undefined {
  const at = () => `events[${i}]`;
  if (!isHexId(m.taskId, TASK_ID_BYTES)) return `${at()}.task_id must be ${TASK_ID_BYTES * 2} hex characters, got ${JSON.stringify(m.taskId.slice(0, 80))}`;
  if (m.attemptNumber > 2 ** 31) return `${at()}.attempt_number must be 0..2^31`;
  if (!isJobId(m.jobId)) return `${at()}.job_id must be 1..64 lowercase hex characters, got ${JSON.stringify(m.jobId.slice(0, 80))}`;
  if (m.transitions.length > MAX_TRANSITIONS) return `${at()} carries ${m.transitions.length} state transitions; at most ${MAX_TRANSITIONS}`;
  for (let j = 0; j < m.transitions.length; j++) {
    const t = m.transitions[j]!;
    if (t.state === 'NIL') return `${at()}.transitions[${j}].state must be one of PENDING_ARGS_AVAIL..FAILED, not NIL`;
    if (!(Number.isInteger(t.timeMs) && t.timeMs > 0 && t.timeMs <= MAX_TIME_MS)) return `${at()}.transitions[${j}].time_ms must be milliseconds since the epoch, got ${t.timeMs}`;
  }
  if (!optionalHex(m.nodeId, NODE_ID_BYTES)) return `${at()}.node_id must be empty or ${NODE_ID_BYTES * 2} hex characters`;
  if (!WORKER_ID.test(m.workerId)) return `${at()}.worker_id must be at most 64 letters, digits, '-' or '_'`;
  if (m.workerPid > MAX_PID) return `${at()}.worker_pid must be a process id (at most ${MAX_PID})`;
  if (!ERROR_TYPE.test(m.errorType)) return `${at()}.error_type must be an upper-case error type name (TASK_EXECUTION_EXCEPTION, WORKER_DIED, …)`;
  if (m.errorMessage.length > MAX_ERROR_MESSAGE) return `${at()}.error_message is ${m.errorMessage.length} characters; at most ${MAX_ERROR_MESSAGE}`;
  if (m.log) {
    const { stdoutStart, stdoutEnd, stderrStart, stderrEnd } = m.log;
    if (!(isOffset(stdoutStart) && isOffset(stdoutEnd) && isOffset(stderrStart) && isOffset(stderrEnd))) return `${at()}.log: offsets must be integers from -1 (unknown) up`;
    if (m.workerId === '' || m.workerPid === 0) return `${at()}.log: log offsets need the worker (worker_id and worker_pid name its files)`;
  }
  return undefined;
}

/** Why a decoded info (shared by attempts) is not valid, or undefined when it is. */
function infoProblem(info: TaskInfo): string | undefined {
  if (info.name.length > MAX_NAME || info.funcOrClassName.length > MAX_NAME) return `info: name and func_or_class_name are at most ${MAX_NAME} characters`;
  if (!optionalHex(info.parentTaskId, TASK_ID_BYTES)) return `info.parent_task_id must be empty or ${TASK_ID_BYTES * 2} hex characters`;
  if (!optionalHex(info.actorId, ACTOR_ID_BYTES)) return `info.actor_id must be empty or ${ACTOR_ID_BYTES * 2} hex characters`;
  if (!optionalHex(info.placementGroupId, PLACEMENT_GROUP_ID_BYTES)) return `info.placement_group_id must be empty or ${PLACEMENT_GROUP_ID_BYTES * 2} hex characters`;
  const resources = Object.entries(info.requiredResources);
  if (resources.length > MAX_RESOURCES) return `info.required_resources has ${resources.length} entries; at most ${MAX_RESOURCES}`;
  for (const [name, n] of resources) {
    if (!(name.length > 0 && name.length <= 256 && Number.isFinite(n) && n >= 0)) return `info.required_resources: ${name.slice(0, 80)}=${n} is not a non-negative amount`;
  }
  return undefined;
}

/** Decodes and checks a whole AddTaskEvents request; nothing of it may be stored unless all of it is valid. */
export function parseAddTaskEvents(req: AddTaskEventsRequest__Output): { reports: AttemptEvents[]; numDropped: number } {
  const numDropped = Number(req.numDropped);
  require(Number.isInteger(numDropped) && numDropped >= 0 && numDropped <= MAX_OFFSET, `num_dropped must be a non-negative integer, got ${req.numDropped}`);
  let reports: AttemptEvents[];
  try {
    reports = decodeTaskEvents(req.events);
  } catch (err) {
    if (err instanceof TaskEventsFormatError) throw new RpcError(grpc.status.INVALID_ARGUMENT, `events are not in the task-event format: ${err.message}`);
    throw err;
  }
  require(reports.length <= MAX_TASK_EVENTS_PER_CALL, `at most ${MAX_TASK_EVENTS_PER_CALL} attempts per call, got ${reports.length}; send them in several calls`);
  const infosChecked = new Set<TaskInfo>();
  for (let i = 0; i < reports.length; i++) {
    const r = reports[i]!;
    const problem = problemOf(r, i) ?? (r.info && !infosChecked.has(r.info) ? infoProblem(r.info) : undefined);
    if (problem) throw new RpcError(grpc.status.INVALID_ARGUMENT, problem.startsWith('info') ? `events[${i}].${problem}` : problem);
    if (r.info) infosChecked.add(r.info);
  }
  return { reports, numDropped };
}

/** A stored attempt as the GetTaskEvents reply carries it. */
export function toTaskAttemptInfo(a: TaskAttempt): TaskAttemptInfoMsg {
  return {
    taskId: a.taskId, attemptNumber: a.attemptNumber, name: a.name, funcOrClassName: a.funcOrClassName, type: a.type, state: a.state,
    jobId: a.jobId, actorId: a.actorId ?? '', parentTaskId: a.parentTaskId ?? '', nodeId: a.nodeId ?? '', workerId: a.workerId ?? '',
    workerPid: a.workerPid ?? 0, errorType: a.errorType ?? '', errorMessage: a.errorMessage ?? '', requiredResources: a.requiredResources ?? {},
    placementGroupId: a.placementGroupId ?? '', stateTransitions: a.stateTransitions, creationTimeMs: a.creationTimeMs ?? 0,
    startTimeMs: a.startTimeMs ?? 0, endTimeMs: a.endTimeMs ?? 0,
    log: a.log ? {
      stdoutFile: a.log.stdoutFile, stderrFile: a.log.stderrFile, stdoutStart: a.log.stdoutStart ?? -1, stdoutEnd: a.log.stdoutEnd ?? -1,
      stderrStart: a.log.stderrStart ?? -1, stderrEnd: a.log.stderrEnd ?? -1,
    } : null,
  };
}

/** The attempts matching the request's filters: the newest `limit`, oldest first, and how many matched. */
export function queryTaskEvents(store: TaskEventStore, req: GetTaskEventsRequest__Output): { attempts: TaskAttempt[]; total: number } {
  require(req.jobId === '' || isJobId(req.jobId), 'job_id must be empty (every job) or a job id (lowercase hex)');
  require(req.taskId === '' || isHexId(req.taskId, TASK_ID_BYTES), `task_id must be empty (every task) or ${TASK_ID_BYTES * 2} hex characters`);
  require(req.limit <= MAX_LIMIT, `limit must be at most ${MAX_LIMIT} (0 = ${DEFAULT_LIMIT})`);
  const limit = req.limit || DEFAULT_LIMIT;
  const source = req.taskId ? store.attemptsOf(req.taskId) : store.list();
  const matched: TaskAttempt[] = [];
  for (const a of source) if (!req.jobId || a.jobId === req.jobId) matched.push(a);
  return { attempts: matched.slice(Math.max(0, matched.length - limit)), total: matched.length };
}

/** The first report whose job the head never registered (events out of protocol order), or undefined. */
export function unknownJobReport(reports: AttemptEvents[], jobs: TaskEventJobs): { index: number; jobId: string } | undefined {
  const known = new Set<string>();
  for (let i = 0; i < reports.length; i++) {
    const jobId = reports[i]!.jobId;
    if (known.has(jobId)) continue;
    if (!jobs.get(jobId)) return { index: i, jobId };
    known.add(jobId);
  }
  return undefined;
}

/** The jobs the head knows (its job table). */
export interface TaskEventJobs { get(jobId: string): unknown }

export function addTaskEventService(server: grpc.Server, store: TaskEventStore, jobs: TaskEventJobs, logger: Logger): void {
  const service = raytsProto().TaskEventService.service;
  server.addService(service, withRequestSchemas(service, taskEventServiceSchemas, {
    AddTaskEvents: unary(logger, 'AddTaskEvents', (req: AddTaskEventsRequest__Output) => {
      const { reports, numDropped } = parseAddTaskEvents(req);
      const unknown = unknownJobReport(reports, jobs);
      if (unknown) throw new RpcError(grpc.status.NOT_FOUND, `events[${unknown.index}].job_id: the head knows no job ${unknown.jobId}; nothing of the call was stored`);
      store.add(reports, numDropped);
      return {};
    }),
    GetTaskEvents: unary(logger, 'GetTaskEvents', (req: GetTaskEventsRequest__Output) => {
      const { attempts, total } = queryTaskEvents(store, req);
      return { attempts: attempts.map(toTaskAttemptInfo), total, ...store.stats() };
    }),
  }));
}
