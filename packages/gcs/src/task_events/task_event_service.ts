/**
 * gRPC handlers of TaskEventService. Every report is validated whole before any of it is stored: a
 * batch with one bad field is refused with INVALID_ARGUMENT naming the field and the event, so a
 * token holder cannot poison the store or make the head throw. Sizes are bounded (events per call,
 * transitions per event, string lengths, resources), which with the store's own bound keeps the
 * head's memory bounded too.
 */
import type * as grpc from '@grpc/grpc-js';
import {
  MAX_TASK_EVENTS_PER_CALL, NODE_ID_BYTES, PLACEMENT_GROUP_ID_BYTES, isHexId, isTaskState, isTaskType, raytsProto, require, unary,
  type AddTaskEventsRequest__Output, type GetTaskEventsRequest__Output, type Logger, type TaskAttempt, type TaskAttemptInfoMsg, type TaskEventsMsgOutput,
} from '@rayts/common';
import type { AttemptReport, TaskEventStore } from './task_event_store.js';

const TASK_ID_BYTES = 28;
const ACTOR_ID_BYTES = 16;
const MAX_TRANSITIONS = 16;
const MAX_NAME = 512;
const MAX_ERROR_MESSAGE = 8192;
const MAX_RESOURCES = 64;
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
/** Latest time a report may carry (JavaScript's last date). */
const MAX_TIME_MS = 8.64e15;
const DEFAULT_LIMIT = 10_000;
const MAX_LIMIT = 100_000;
const LOG_FILE = /^worker-[0-9A-Za-z]{1,64}-\d{1,10}\.(out|err)$/;

const optionalHex = (value: string, bytes: number) => value === '' || isHexId(value, bytes);
const isJobId = (value: string) => /^[0-9a-f]{1,64}$/.test(value);
const isOffset = (n: number) => Number.isInteger(n) && n >= -1 && n <= MAX_OFFSET;

/** Validates one TaskEvents message (the `i`th of its batch) into a report, or throws INVALID_ARGUMENT. */
function parseEvent(m: TaskEventsMsgOutput, i: number): AttemptReport {
  const at = `events[${i}]`;
  require(isHexId(m.taskId, TASK_ID_BYTES), `${at}.task_id must be ${TASK_ID_BYTES * 2} hex characters, got ${JSON.stringify(m.taskId.slice(0, 80))}`);
  require(Number.isInteger(m.attemptNumber) && m.attemptNumber >= 0 && m.attemptNumber <= 2 ** 31, `${at}.attempt_number must be 0..2^31`);
  require(isJobId(m.jobId), `${at}.job_id must be 1..64 lowercase hex characters, got ${JSON.stringify(m.jobId.slice(0, 80))}`);
  require(m.transitions.length <= MAX_TRANSITIONS, `${at} carries ${m.transitions.length} state transitions; at most ${MAX_TRANSITIONS}`);
  const transitions = m.transitions.map((t, j) => {
    require(isTaskState(t.state) && t.state !== 'NIL', `${at}.transitions[${j}].state must be one of PENDING_ARGS_AVAIL..FAILED, got ${JSON.stringify(t.state)}`);
    const timeMs = Number(t.timeMs);
    require(Number.isInteger(timeMs) && timeMs > 0 && timeMs <= MAX_TIME_MS, `${at}.transitions[${j}].time_ms must be milliseconds since the epoch, got ${t.timeMs}`);
    return { state: t.state, timeMs };
  });
  require(optionalHex(m.nodeId, NODE_ID_BYTES), `${at}.node_id must be empty or ${NODE_ID_BYTES * 2} hex characters`);
  require(/^[A-Za-z0-9_-]{0,64}$/.test(m.workerId), `${at}.worker_id must be at most 64 letters, digits, '-' or '_'`);
  require(/^[A-Z_]{0,64}$/.test(m.errorType), `${at}.error_type must be an upper-case error type name (TASK_EXECUTION_EXCEPTION, WORKER_DIED, …)`);
  require(m.errorMessage.length <= MAX_ERROR_MESSAGE, `${at}.error_message is ${m.errorMessage.length} characters; at most ${MAX_ERROR_MESSAGE}`);
  const report: AttemptReport = {
    taskId: m.taskId, attemptNumber: m.attemptNumber, jobId: m.jobId, transitions,
    nodeId: m.nodeId, workerId: m.workerId, workerPid: m.workerPid, errorType: m.errorType, errorMessage: m.errorMessage,
  };
  if (m.info) {
    const info = m.info;
    require(info.name.length <= MAX_NAME && info.funcOrClassName.length <= MAX_NAME, `${at}.info: name and func_or_class_name are at most ${MAX_NAME} characters`);
    require(isTaskType(info.type), `${at}.info.type must be NORMAL_TASK, ACTOR_CREATION_TASK, ACTOR_TASK or DRIVER_TASK, got ${JSON.stringify(info.type)}`);
    require(optionalHex(info.parentTaskId, TASK_ID_BYTES), `${at}.info.parent_task_id must be empty or ${TASK_ID_BYTES * 2} hex characters`);
    require(optionalHex(info.actorId, ACTOR_ID_BYTES), `${at}.info.actor_id must be empty or ${ACTOR_ID_BYTES * 2} hex characters`);
    require(optionalHex(info.placementGroupId, PLACEMENT_GROUP_ID_BYTES), `${at}.info.placement_group_id must be empty or ${PLACEMENT_GROUP_ID_BYTES * 2} hex characters`);
    const resources = Object.entries(info.requiredResources);
    require(resources.length <= MAX_RESOURCES, `${at}.info.required_resources has ${resources.length} entries; at most ${MAX_RESOURCES}`);
    const requiredResources: Record<string, number> = {};
    for (const [name, value] of resources) {
      const n = Number(value);
      require(name.length > 0 && name.length <= 256 && Number.isFinite(n) && n >= 0, `${at}.info.required_resources: ${name.slice(0, 80)}=${value} is not a non-negative amount`);
      requiredResources[name] = n;
    }
    report.info = {
      name: info.name, funcOrClassName: info.funcOrClassName, type: info.type, parentTaskId: info.parentTaskId, actorId: info.actorId,
      requiredResources, placementGroupId: info.placementGroupId,
    };
  }
  if (m.log) {
    const log = m.log;
    const offsets = [Number(log.stdoutStart), Number(log.stdoutEnd), Number(log.stderrStart), Number(log.stderrEnd)] as const;
    require((log.stdoutFile === '' || (LOG_FILE.test(log.stdoutFile) && log.stdoutFile.endsWith('.out')))
      && (log.stderrFile === '' || (LOG_FILE.test(log.stderrFile) && log.stderrFile.endsWith('.err'))),
    `${at}.log: stdout_file and stderr_file must be a worker's log file names (worker-<id>-<pid>.out / .err)`);
    require(offsets.every(isOffset), `${at}.log: offsets must be integers from -1 (unknown) up`);
    report.log = { stdoutFile: log.stdoutFile, stderrFile: log.stderrFile, stdoutStart: offsets[0], stdoutEnd: offsets[1], stderrStart: offsets[2], stderrEnd: offsets[3] };
  }
  return report;
}

/** Validates a whole AddTaskEvents request; nothing of it may be stored unless all of it is valid. */
export function parseAddTaskEvents(req: AddTaskEventsRequest__Output): { reports: AttemptReport[]; numDropped: number } {
  require(req.events.length <= MAX_TASK_EVENTS_PER_CALL, `at most ${MAX_TASK_EVENTS_PER_CALL} task events per call, got ${req.events.length}; send them in several calls`);
  const numDropped = Number(req.numDropped);
  require(Number.isInteger(numDropped) && numDropped >= 0 && numDropped <= MAX_OFFSET, `num_dropped must be a non-negative integer, got ${req.numDropped}`);
  return { reports: req.events.map(parseEvent), numDropped };
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

export function addTaskEventService(server: grpc.Server, store: TaskEventStore, logger: Logger): void {
  server.addService(raytsProto().TaskEventService.service, {
    AddTaskEvents: unary(logger, 'AddTaskEvents', (req: AddTaskEventsRequest__Output) => {
      const { reports, numDropped } = parseAddTaskEvents(req);
      store.add(reports, numDropped);
      return {};
    }),
    GetTaskEvents: unary(logger, 'GetTaskEvents', (req: GetTaskEventsRequest__Output) => {
      const { attempts, total } = queryTaskEvents(store, req);
      return { attempts: attempts.map(toTaskAttemptInfo), total, ...store.stats() };
    }),
  });
}
