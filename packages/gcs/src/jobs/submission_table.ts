/** Persistence of submitted jobs (table job_submissions). Every change commits before the caller goes on. */
import { parseRuntimeEnvJson, runtimeEnvToJson, type RuntimeEnv } from '@rayts/common';
import type { Db } from '../storage/database.js';
import type { JobStatus, SubmitJobRequest } from './job_api.js';

/** A submission as the head keeps it: what was asked (resolved: working_dir is a package URI), and what became of it. */
export interface SubmissionRecord extends Omit<SubmitJobRequest, 'submissionId'> {
  submissionId: string;
  status: JobStatus;
  message: string;
  errorType: string | null;
  startTimeMs: number;
  endTimeMs: number | null;
  driverNodeId: string | null;
  driverPid: number | null;
  driverExitCode: number | null;
  stopRequested: boolean;
}

interface Row {
  submission_id: string; entrypoint: string; runtime_env: string; metadata: string;
  entrypoint_num_cpus: number; entrypoint_num_gpus: number; entrypoint_memory: number; entrypoint_resources: string;
  status: JobStatus; message: string; error_type: string | null; start_time_ms: number; end_time_ms: number | null;
  driver_node_id: string | null; driver_pid: number | null; driver_exit_code: number | null; stop_requested: number;
}

function fromRow(r: Row): SubmissionRecord {
  let runtimeEnv: RuntimeEnv;
  try {
    runtimeEnv = parseRuntimeEnvJson(r.runtime_env);
  } catch {
    runtimeEnv = {};
  }
  return {
    submissionId: r.submission_id, entrypoint: r.entrypoint, runtimeEnv, metadata: JSON.parse(r.metadata) as Record<string, string>,
    entrypointNumCpus: r.entrypoint_num_cpus, entrypointNumGpus: r.entrypoint_num_gpus, entrypointMemory: r.entrypoint_memory,
    entrypointResources: JSON.parse(r.entrypoint_resources) as Record<string, number>, status: r.status, message: r.message,
    errorType: r.error_type, startTimeMs: r.start_time_ms, endTimeMs: r.end_time_ms, driverNodeId: r.driver_node_id,
    driverPid: r.driver_pid, driverExitCode: r.driver_exit_code, stopRequested: r.stop_requested === 1,
  };
}

export class SubmissionTable {
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly deleteStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(`INSERT INTO job_submissions (submission_id, entrypoint, runtime_env, metadata, entrypoint_num_cpus,
      entrypoint_num_gpus, entrypoint_memory, entrypoint_resources, status, message, start_time_ms)
      VALUES (@submissionId, @entrypoint, @runtimeEnv, @metadata, @entrypointNumCpus, @entrypointNumGpus, @entrypointMemory,
      @entrypointResources, @status, @message, @startTimeMs)`);
    this.updateStmt = db.prepare(`UPDATE job_submissions SET status = @status, message = @message, error_type = @errorType,
      end_time_ms = @endTimeMs, driver_node_id = @driverNodeId, driver_pid = @driverPid, driver_exit_code = @driverExitCode,
      stop_requested = @stopRequested WHERE submission_id = @submissionId`);
    this.deleteStmt = db.prepare('DELETE FROM job_submissions WHERE submission_id = ?');
  }

  /** Every submission, oldest first. */
  all(): SubmissionRecord[] {
    return (this.db.prepare('SELECT * FROM job_submissions ORDER BY seq').all() as Row[]).map(fromRow);
  }

  insert(r: SubmissionRecord): void {
    this.insertStmt.run({
      submissionId: r.submissionId, entrypoint: r.entrypoint, runtimeEnv: runtimeEnvToJson(r.runtimeEnv), metadata: JSON.stringify(r.metadata),
      entrypointNumCpus: r.entrypointNumCpus, entrypointNumGpus: r.entrypointNumGpus, entrypointMemory: r.entrypointMemory,
      entrypointResources: JSON.stringify(r.entrypointResources), status: r.status, message: r.message, startTimeMs: r.startTimeMs,
    });
  }

  /** The fields that change after submission. */
  save(r: SubmissionRecord): void {
    this.updateStmt.run({
      submissionId: r.submissionId, status: r.status, message: r.message, errorType: r.errorType, endTimeMs: r.endTimeMs,
      driverNodeId: r.driverNodeId, driverPid: r.driverPid, driverExitCode: r.driverExitCode, stopRequested: r.stopRequested ? 1 : 0,
    });
  }

  delete(submissionId: string): void {
    this.deleteStmt.run(submissionId);
  }
}
