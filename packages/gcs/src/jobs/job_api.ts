/**
 * What the head offers for submitted jobs (Ray's job submission: `rayts job …`, `/api/jobs/`) and
 * their working_dir packages, to the HTTP API in the head process. The JobManager implements
 * `JobApi`, the PackageStore `PackageApi`; routes depend on these interfaces only.
 */
import type { Readable } from 'node:stream';
import type { RuntimeEnv } from '@rayts/common';

/** Ray's job statuses. PENDING: accepted, the driver has not started yet (node choice, runtime env setup). */
export const JOB_STATUSES = ['PENDING', 'RUNNING', 'STOPPED', 'SUCCEEDED', 'FAILED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['STOPPED', 'SUCCEEDED', 'FAILED']);

/** A submission as the HTTP API received it (validated by the route: types and field names). */
export interface SubmitJobRequest {
  entrypoint: string;
  /** Generated (`raysubmit_` + 16 characters) when left out. */
  submissionId?: string;
  /** working_dir, when present, is a gcs:// package URI that must exist on the head. */
  runtimeEnv: RuntimeEnv;
  metadata: Record<string, string>;
  entrypointNumCpus: number;
  entrypointNumGpus: number;
  /** Bytes. */
  entrypointMemory: number;
  entrypointResources: Record<string, number>;
}

/** One job as `GET /api/jobs/{id}` shows it (the route maps it to Ray's JobDetails field names). */
export interface JobDetails {
  /** SUBMISSION: started by `rayts job submit`; DRIVER: a driver that called init() by itself. */
  type: 'SUBMISSION' | 'DRIVER';
  /** The driver's job id (hex), once its driver called init(); null before. */
  jobId: string | null;
  submissionId: string | null;
  status: JobStatus;
  entrypoint: string;
  message: string;
  /** Set for FAILED: 'JOB_ENTRYPOINT_COMMAND_ERROR' (non-zero exit or a signal), 'RUNTIME_ENV_SETUP_FAILURE', 'JOB_DRIVER_LOST' (its node died, or it vanished while the head was down). */
  errorType: string | null;
  startTimeMs: number;
  endTimeMs: number | null;
  metadata: Record<string, string>;
  runtimeEnv: RuntimeEnv;
  driverNodeId: string | null;
  driverNodeIp: string | null;
  driverPid: number | null;
  driverExitCode: number | null;
  entrypointNumCpus: number;
  entrypointNumGpus: number;
  entrypointMemory: number;
  entrypointResources: Record<string, number>;
}

/** Where a job's driver log is: a file of a node's log listing (`job-driver-<submission id>.log`). */
export interface JobLogLocation {
  nodeId: string;
  fileName: string;
}

export interface JobApi {
  /**
   * Records the job (PENDING) and starts it in the background. Throws `JobExistsError` for a taken
   * submission id, `RuntimeEnvError` for a runtime env the head cannot run (e.g. an unknown package),
   * `UsageError` for other bad fields.
   */
  submit(request: SubmitJobRequest): JobDetails;
  /** By submission id, or by the hex job id of its driver. */
  get(id: string): JobDetails | undefined;
  /** Every job the head keeps (submissions, and drivers that called init() by themselves), oldest first. */
  list(): JobDetails[];
  /** Asks a running or pending job to stop: true if it was not terminal. `NotFoundError` when unknown. */
  stop(id: string): boolean;
  /** Deletes a terminal job's record (and its package when no other job uses it). `NotFoundError`; `JobNotTerminalError` when it still runs. */
  delete(id: string): void;
  /** The driver's log file, once the job's driver was placed on a node. `NotFoundError` when the job is unknown. */
  logLocation(id: string): JobLogLocation | undefined;
}

export interface PackageInfo {
  exists: boolean;
  size: number;
}

export interface PackageApi {
  /** The largest package accepted, in bytes (the `jobPackageMaxBytes` tunable). */
  readonly maxBytes: number;
  info(uri: string): PackageInfo;
  /**
   * Streams an upload to disk under the head's state dir, checking its sha256 against the URI.
   * `PackageTooLargeError` (413) beyond maxBytes, `PackageRejectedError` (400) for a digest mismatch
   * or an archive with unsafe entries; nothing is kept then.
   */
  put(uri: string, body: Readable, declaredBytes?: number): Promise<{ size: number; existed: boolean }>;
}
