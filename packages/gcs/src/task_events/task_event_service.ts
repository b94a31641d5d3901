/**
 * gRPC handlers of TaskEventService. Every report is read in place (TaskEventsView, whose reader checks
 * the structure) and validated whole before any of it is stored: a batch with one bad field is refused
 * with INVALID_ARGUMENT naming the field and the attempt, so a token holder cannot poison the store
 * or make the head throw. Sizes are bounded (attempts per call, transitions per attempt, string
 * lengths, resources), which with the store's own bound keeps the head's memory bounded too.
 *
 * The check runs on the batch's bytes and its string table (each string checked once per batch),
 * making no object per attempt (`attemptOk`); only for an attempt it refuses is the record made, and
 * `problemOf` says what is wrong with it.
 */
import * as grpc from '@grpc/grpc-js';
import {
  MAX_TASK_EVENTS_PER_CALL, NODE_ID_BYTES, PLACEMENT_GROUP_ID_BYTES, RpcError, TaskEventsFormatError, TaskEventsView, isHexId, raytsProto, require, unary,
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

/** Lowercase hex digits, by character code. */
const HEX = new Uint8Array(128);
for (const c of '0123456789abcdef') HEX[c.charCodeAt(0)] = 1;

/** What each string of a batch's table may be, checked once per batch (bits: job id, node id, worker id, error type). */
const AS_JOB = 1;
const AS_NODE = 2;
const AS_WORKER = 4;
const AS_ERROR_TYPE = 8;
function stringUses(strings: readonly string[]): Uint8Array {
  const uses = new Uint8Array(strings.length);
  for (let i = 0; i < strings.length; i++) {
    const s = strings[i]!;
    uses[i] = (isJobId(s) ? AS_JOB : 0) | (optionalHex(s, NODE_ID_BYTES) ? AS_NODE : 0) | (WORKER_ID.test(s) ? AS_WORKER : 0) | (ERROR_TYPE.test(s) ? AS_ERROR_TYPE : 0);
  }
  return uses;
}

/**
 * Whether attempt k passes every check problemOf makes (and its info infoProblem's), read from the
 * bytes. Never more lenient than those: an attempt it refuses is looked at by them, which name the problem.
 */
function attemptOk(b: TaskEventsView, k: number, uses: Uint8Array, infoOk: Int8Array): boolean {
  if (b.taskIdLength(k) !== TASK_ID_BYTES * 2) return false;
  const { bytes } = b;
  const at = b.taskIdAt(k);
  for (let i = at; i < at + TASK_ID_BYTES * 2; i++) if (HEX[bytes[i]!] !== 1) return false;
  if (b.attemptNumber(k) > 2 ** 31 || (uses[b.jobRef(k)]! & AS_JOB) === 0) return false;
  const n = b.transitionCount(k);
  if (n > MAX_TRANSITIONS) return false;
  for (let j = 0; j < n; j++) {
    const t = b.transitionTime(k, j);
    if (b.transitionState(k, j) === 0 || !(Number.isInteger(t) && t > 0 && t <= MAX_TIME_MS)) return false;
  }
  const worker = b.workerRef(k);
  const pid = b.workerPid(k);
  if ((uses[b.nodeRef(k)]! & AS_NODE) === 0 || (uses[worker]! & AS_WORKER) === 0 || pid > MAX_PID) return false;
  const errorType = b.errorTypeRef(k);
  if (errorType >= 0) {
    if ((uses[errorType]! & AS_ERROR_TYPE) === 0) return false;
    // UTF-8 has at least as many bytes as characters: only a long message needs counting.
    if (b.errorMessageBytes(k) > MAX_ERROR_MESSAGE && b.errorMessage(k).length > MAX_ERROR_MESSAGE) return false;
  }
  if (b.hasLog(k)) {
    for (let i = 0; i < 4; i++) if (!isOffset(b.logOffset(k, i))) return false;
    if (b.strings[worker] === '' || pid === 0) return false;
  }
  const info = b.infoIndex(k);
  if (info >= 0) {
    if (infoOk[info] === 0) infoOk[info] = infoProblem(b.infos[info]!) === undefined ? 1 : -1;
    if (infoOk[info] === -1) return false;
  }
  return true;
}

/** Reads and checks a whole AddTaskEvents request; nothing of it may be stored unless all of it is valid. */
export function parseAddTaskEvents(req: AddTaskEventsRequest__Output): { batch: TaskEventsView; numDropped: number } {
  const numDropped = Number(req.numDropped);
  require(Number.isInteger(numDropped) && numDropped >= 0 && numDropped <= MAX_OFFSET, `num_dropped must be a non-negative integer, got ${req.numDropped}`);
  let batch: TaskEventsView;
  try {
    batch = TaskEventsView.read(req.events);
  } catch (err) {
    if (err instanceof TaskEventsFormatError) throw new RpcError(grpc.status.INVALID_ARGUMENT, `events are not in the task-event format: ${err.message}`);
    throw err;
  }
  require(batch.count <= MAX_TASK_EVENTS_PER_CALL, `at most ${MAX_TASK_EVENTS_PER_CALL} attempts per call, got ${batch.count}; send them in several calls`);
  const uses = stringUses(batch.strings);
  const infoOk = new Int8Array(batch.infos.length);
  for (let k = 0; k < batch.count; k++) {
    if (attemptOk(batch, k, uses, infoOk)) continue;
    const r = batch.attempt(k);
    const problem = problemOf(r, k) ?? (r.info ? infoProblem(r.info) : undefined);
    if (problem) throw new RpcError(grpc.status.INVALID_ARGUMENT, problem.startsWith('info') ? `events[${k}].${problem}` : problem);
  }
  return { batch, numDropped };
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

/** The first attempt whose job the head never registered (events out of protocol order), or undefined. Asks about each job once. */
export function unknownJobReport(batch: TaskEventsView, jobs: TaskEventJobs): { index: number; jobId: string } | undefined {
  const known = new Uint8Array(batch.strings.length);
  for (let k = 0; k < batch.count; k++) {
    const job = batch.jobRef(k);
    if (known[job]) continue;
    const jobId = batch.strings[job]!;
    if (!jobs.get(jobId)) return { index: k, jobId };
    known[job] = 1;
  }
  return undefined;
}

/** The jobs the head knows (its job table). */
export interface TaskEventJobs { get(jobId: string): unknown }

export function addTaskEventService(server: grpc.Server, store: TaskEventStore, jobs: TaskEventJobs, logger: Logger): void {
  const service = raytsProto().TaskEventService.service;
  server.addService(service, withRequestSchemas(service, taskEventServiceSchemas, {
    AddTaskEvents: unary(logger, 'AddTaskEvents', (req: AddTaskEventsRequest__Output) => {
      const { batch, numDropped } = parseAddTaskEvents(req);
      const unknown = unknownJobReport(batch, jobs);
      if (unknown) throw new RpcError(grpc.status.NOT_FOUND, `events[${unknown.index}].job_id: the head knows no job ${unknown.jobId}; nothing of the call was stored`);
      store.addBatch(batch, numDropped);
      return {};
    }),
    GetTaskEvents: unary(logger, 'GetTaskEvents', (req: GetTaskEventsRequest__Output) => {
      const { attempts, total } = queryTaskEvents(store, req);
      return { attempts: attempts.map(toTaskAttemptInfo), total, ...store.stats() };
    }),
  }));
}
