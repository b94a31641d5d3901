/**
 * The jobs API's JSON in Ray's shapes (snake_case, `python/ray/dashboard/modules/job/pydantic_models.py`
 * JobDetails and the submit / stop / delete / logs responses). Free of fastify: the CLI reads these
 * types too.
 */
import type { JobDetails, JobStatus } from '@rayts/gcs';

/** The driver process of a job (Ray's DriverInfo; `pid` is a string there). */
export interface DriverInfoJson {
  /** The driver's job id (hex), once it called init(). */
  id: string | null;
  node_ip_address: string | null;
  pid: string | null;
}

/** Ray's JobDetails. Times are epoch milliseconds; `end_time` is null while the job runs. */
export interface JobDetailsJson {
  type: 'SUBMISSION' | 'DRIVER';
  job_id: string | null;
  submission_id: string | null;
  driver_info: DriverInfoJson | null;
  status: JobStatus;
  entrypoint: string;
  message: string;
  error_type: string | null;
  start_time: number;
  end_time: number | null;
  metadata: Record<string, string>;
  runtime_env: Record<string, unknown>;
  /** Ray's job agent address; rayts runs drivers through raylets, so it is always null. */
  driver_agent_http_address: null;
  driver_node_id: string | null;
  driver_exit_code: number | null;
  entrypoint_num_cpus: number;
  entrypoint_num_gpus: number;
  entrypoint_memory: number;
  entrypoint_resources: Record<string, number>;
}

/** `POST /api/jobs/` answers with the submission id under both names (Ray's `job_id` is its old name). */
export interface SubmitJobReply {
  job_id: string;
  submission_id: string;
}

export interface StopJobReply {
  stopped: boolean;
}

export interface DeleteJobReply {
  deleted: boolean;
}

export interface JobLogsReply {
  logs: string;
}

/** `GET /api/packages/gcs/<name>` when the package is on the head (404 otherwise). */
export interface PackageInfoReply {
  exists: true;
  size: number;
}

/** `PUT /api/packages/gcs/<name>`: `existed` when the head had it already (the body was not stored again). */
export interface PutPackageReply {
  uri: string;
  size: number;
  existed: boolean;
}

export function driverInfoJson(job: JobDetails): DriverInfoJson | null {
  if (job.jobId === null && job.driverPid === null) return null;
  return { id: job.jobId, node_ip_address: job.driverNodeIp, pid: job.driverPid === null ? null : String(job.driverPid) };
}

export function jobDetailsJson(job: JobDetails): JobDetailsJson {
  return {
    type: job.type,
    job_id: job.jobId,
    submission_id: job.submissionId,
    driver_info: driverInfoJson(job),
    status: job.status,
    entrypoint: job.entrypoint,
    message: job.message,
    error_type: job.errorType,
    start_time: job.startTimeMs,
    end_time: job.endTimeMs,
    metadata: { ...job.metadata },
    runtime_env: { ...job.runtimeEnv },
    driver_agent_http_address: null,
    driver_node_id: job.driverNodeId,
    driver_exit_code: job.driverExitCode,
    entrypoint_num_cpus: job.entrypointNumCpus,
    entrypoint_num_gpus: job.entrypointNumGpus,
    entrypoint_memory: job.entrypointMemory,
    entrypoint_resources: { ...job.entrypointResources },
  };
}
