/** Jobs as the HTTP API shows them: a submission with its driver, or a driver that called init() by itself. */
import { parseRuntimeEnvJson, type RuntimeEnv } from '@rayts/common';
import type { JobRecord } from '../job_table.js';
import type { JobDetails } from './job_api.js';
import type { SubmissionRecord } from './submission_table.js';

export function submissionDetails(r: SubmissionRecord, driverJobId: string | null, driverNodeIp: string | null): JobDetails {
  return {
    type: 'SUBMISSION', jobId: driverJobId, submissionId: r.submissionId, status: r.status, entrypoint: r.entrypoint, message: r.message,
    errorType: r.errorType, startTimeMs: r.startTimeMs, endTimeMs: r.endTimeMs, metadata: { ...r.metadata }, runtimeEnv: r.runtimeEnv,
    driverNodeId: r.driverNodeId, driverNodeIp, driverPid: r.driverPid, driverExitCode: r.driverExitCode,
    entrypointNumCpus: r.entrypointNumCpus, entrypointNumGpus: r.entrypointNumGpus, entrypointMemory: r.entrypointMemory,
    entrypointResources: { ...r.entrypointResources },
  };
}

function runtimeEnvOf(json: string): RuntimeEnv {
  try {
    return parseRuntimeEnvJson(json);
  } catch {
    return {};
  }
}

/** A driver started by hand: RUNNING while connected, SUCCEEDED once it left (Ray shows FINISHED drivers so). */
export function driverDetails(j: JobRecord, driverNodeIp: string | null): JobDetails {
  const running = j.state === 'RUNNING';
  return {
    type: 'DRIVER', jobId: j.jobId, submissionId: null, status: running ? 'RUNNING' : 'SUCCEEDED', entrypoint: j.entrypoint,
    message: running ? 'Job is currently running.' : 'Job finished successfully.', errorType: null, startTimeMs: j.startTimeMs,
    endTimeMs: running ? null : j.endTimeMs, metadata: {}, runtimeEnv: runtimeEnvOf(j.runtimeEnvJson), driverNodeId: j.nodeId,
    driverNodeIp, driverPid: j.driverPid, driverExitCode: null, entrypointNumCpus: 0, entrypointNumGpus: 0, entrypointMemory: 0,
    entrypointResources: {},
  };
}

/** The resources a job's driver holds on its node while it runs. */
export function entrypointShape(r: SubmissionRecord): Record<string, number> {
  const shape: Record<string, number> = { ...r.entrypointResources };
  if (r.entrypointNumCpus > 0) shape.CPU = r.entrypointNumCpus;
  if (r.entrypointNumGpus > 0) shape.GPU = r.entrypointNumGpus;
  if (r.entrypointMemory > 0) shape.memory = r.entrypointMemory;
  for (const [k, v] of Object.entries(shape)) if (!(v > 0)) delete shape[k];
  return shape;
}
