/**
 * The raylet's StartJobDriver and StopJobDriver (raylet.proto, RayletService): the head runs
 * submitted jobs' drivers here. Every field is checked before use; a bad one is INVALID_ARGUMENT
 * naming it, resources not free now are RESOURCE_EXHAUSTED.
 */
import * as grpc from '@grpc/grpc-js';
import {
  RpcError, RuntimeEnvError, parseRuntimeEnvJson, unary,
  type Logger, type ResourceMap, type RuntimeEnv, type StartJobDriverRequest__Output,
} from '@rayts/common';
import { ResourcesUnavailableError } from '../errors.js';
import type { DriverStart, JobDrivers } from './job_drivers.js';

/** Submission ids name the driver's log file: letters, digits, `_`, `-`, `.` (not first), at most 128. */
const SUBMISSION_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
const RESOURCE_NAME = /^[A-Za-z_][A-Za-z0-9_.:\-/]{0,255}$/;
/** Longest entrypoint accepted (a shell command line). */
export const MAX_ENTRYPOINT_BYTES = 64 * 1024;
/** Longest stop grace accepted (ms): an hour. */
export const MAX_STOP_GRACE_MS = 3_600_000;

function invalid(message: string): RpcError {
  return new RpcError(grpc.status.INVALID_ARGUMENT, message);
}

function checkSubmissionId(id: string): void {
  if (!SUBMISSION_ID.test(id)) {
    throw invalid(`submission_id ${JSON.stringify(id.slice(0, 200))} is not valid: use 1 to 128 letters, digits, '_', '-' or '.' (not first)`);
  }
}

/** A StartJobDriver request, checked field by field. */
export function parseStartRequest(req: StartJobDriverRequest__Output): DriverStart {
  checkSubmissionId(req.submissionId);
  const entrypoint = req.entrypoint;
  if (entrypoint.trim() === '') throw invalid('entrypoint is empty: give the shell command that runs the driver, like "node main.mjs"');
  if (Buffer.byteLength(entrypoint) > MAX_ENTRYPOINT_BYTES) throw invalid(`entrypoint is longer than ${MAX_ENTRYPOINT_BYTES} bytes: put the command in a script in the working_dir`);
  if (entrypoint.includes('\0')) throw invalid('entrypoint contains a NUL character');
  let runtimeEnv: RuntimeEnv;
  try {
    runtimeEnv = parseRuntimeEnvJson(req.runtimeEnvJson);
  } catch (err) {
    if (err instanceof RuntimeEnvError) throw invalid(`runtime_env_json: ${err.message}`);
    throw err;
  }
  const resources: ResourceMap = {};
  for (const [name, amount] of Object.entries(req.resources)) {
    if (!RESOURCE_NAME.test(name)) throw invalid(`resources: '${name.slice(0, 200)}' is not a valid resource name`);
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) throw invalid(`resources.${name} must be a finite amount >= 0, got ${String(amount)}`);
    if (amount > 0) resources[name] = amount;
  }
  return { submissionId: req.submissionId, entrypoint, runtimeEnv, runtimeEnvJson: req.runtimeEnvJson, resources };
}

export function jobDriverHandlers(drivers: Pick<JobDrivers, 'start' | 'stop'>, logger: Logger) {
  return {
    StartJobDriver: unary(logger, 'StartJobDriver', (req: StartJobDriverRequest__Output) => {
      const start = parseStartRequest(req);
      try {
        return drivers.start(start);
      } catch (err) {
        if (err instanceof ResourcesUnavailableError) throw new RpcError(grpc.status.RESOURCE_EXHAUSTED, err.message);
        throw err;
      }
    }),
    StopJobDriver: unary(logger, 'StopJobDriver', (req: { submissionId: string; graceMs: number }) => {
      checkSubmissionId(req.submissionId);
      if (!Number.isInteger(req.graceMs) || req.graceMs < 0 || req.graceMs > MAX_STOP_GRACE_MS) throw invalid(`grace_ms must be 0 to ${MAX_STOP_GRACE_MS}, got ${req.graceMs}`);
      return { found: drivers.stop(req.submissionId, req.graceMs) };
    }),
  };
}
