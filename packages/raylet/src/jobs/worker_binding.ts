/**
 * Binding a worker to a job: a worker serves one job for its life, and before the job's first task or
 * actor on it, it is told which (bindJob), so that it enters the job's prepared working_dir and takes
 * the job's env vars before any code of the job runs.
 */
import type { BindJob } from '@rayts/core-worker';
import { NO_ENV, type PreparedEnv } from './runtime_envs.js';

/** What binding needs of a worker (the scheduler's WorkerSlot). */
export interface BindableWorker {
  jobId?: string;
  send(message: BindJob): void;
}

/** Binds a worker that serves no job yet to `jobId` (a no-op for one bound already). */
export function bindToJob(worker: BindableWorker, jobId: string, env: PreparedEnv = NO_ENV): void {
  if (worker.jobId !== undefined) return;
  worker.jobId = jobId;
  worker.send({ type: 'bindJob', jobId, ...(env.dir ? { dir: env.dir } : {}), envVars: env.envVars });
}

/** Where the job's code resolves imports on this node: its working_dir, else the driver's directory. */
export function jobDirOf(env: PreparedEnv | undefined, driverJobDir: string): string {
  return env?.dir ?? driverJobDir;
}
