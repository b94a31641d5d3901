/** Jobs (one per driver): registered when a driver connects, finished when it leaves. */
import type { Db } from './storage/database.js';

export function formatJobId(rowid: number): string {
  return rowid.toString(16).padStart(8, '0');
}

export const JOB_STATES = ['RUNNING', 'FINISHED'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A job as the state API lists it. */
export interface JobRecord {
  jobId: string;
  nodeId: string;
  driverPid: number;
  entrypoint: string;
  jobDir: string;
  startTimeMs: number;
  endTimeMs: number;
  state: JobState;
  /** The submitted job this driver runs for ('' for a driver started by hand). */
  submissionId: string;
  /** The resolved runtime env as JSON ('' for none). */
  runtimeEnvJson: string;
}

interface JobRow {
  job_id: number; node_id: string; driver_pid: number; entrypoint: string; job_dir: string;
  start_time_ms: number; end_time_ms: number | null; state: JobState; submission_id: string; runtime_env: string;
}

function fromRow(r: JobRow): JobRecord {
  return {
    jobId: formatJobId(r.job_id), nodeId: r.node_id, driverPid: r.driver_pid, entrypoint: r.entrypoint, jobDir: r.job_dir,
    startTimeMs: r.start_time_ms, endTimeMs: r.end_time_ms ?? 0, state: r.state, submissionId: r.submission_id, runtimeEnvJson: r.runtime_env,
  };
}

function rowidOf(jobId: string): number {
  return /^[0-9a-f]{1,16}$/i.test(jobId) ? Number.parseInt(jobId, 16) : Number.NaN;
}

export class JobTable {
  private readonly insert;
  private readonly listStmt;
  private readonly finish;
  private readonly runningOnNodeStmt;
  private readonly stateStmt;
  private readonly countStmt;
  private readonly getStmt;
  private readonly bySubmissionStmt;
  private readonly runningEnvsStmt;

  constructor(db: Db) {
    this.insert = db.prepare(`INSERT INTO jobs (node_id, driver_pid, entrypoint, job_dir, start_time_ms, state, submission_id, runtime_env)
      VALUES (?, ?, ?, ?, ?, 'RUNNING', ?, ?)`);
    this.getStmt = db.prepare('SELECT * FROM jobs WHERE job_id = ?');
    this.bySubmissionStmt = db.prepare('SELECT * FROM jobs WHERE submission_id = ? ORDER BY job_id DESC LIMIT 1');
    this.runningEnvsStmt = db.prepare(`SELECT runtime_env FROM jobs WHERE state = 'RUNNING' AND runtime_env != ''`);
    this.finish = db.prepare(`UPDATE jobs SET state = 'FINISHED', end_time_ms = ? WHERE job_id = ? AND state = 'RUNNING'`);
    this.runningOnNodeStmt = db.prepare(`SELECT job_id FROM jobs WHERE node_id = ? AND state = 'RUNNING'`);
    this.stateStmt = db.prepare(`SELECT state FROM jobs WHERE job_id = ?`);
    this.listStmt = db.prepare(`SELECT * FROM jobs ORDER BY job_id DESC LIMIT ?`);
    this.countStmt = db.prepare(`SELECT state, COUNT(*) AS n FROM jobs GROUP BY state`);
  }

  /** The newest `limit` jobs, newest first. */
  list(limit: number): JobRecord[] {
    return (this.listStmt.all(limit) as JobRow[]).map(fromRow);
  }

  get(jobId: string): JobRecord | undefined {
    const row = this.getStmt.get(rowidOf(jobId)) as JobRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** The newest driver registered for a submitted job. */
  bySubmission(submissionId: string): JobRecord | undefined {
    const row = this.bySubmissionStmt.get(submissionId) as JobRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** The runtime envs (JSON) of the running drivers: their packages must stay on the head. */
  runningRuntimeEnvs(): string[] {
    return (this.runningEnvsStmt.all() as { runtime_env: string }[]).map((r) => r.runtime_env);
  }

  register(nodeId: string, driverPid: number, entrypoint: string, jobDir: string, submissionId = '', runtimeEnvJson = ''): string {
    const { lastInsertRowid } = this.insert.run(nodeId, driverPid, entrypoint.slice(0, 4096), jobDir.slice(0, 4096), Date.now(), submissionId, runtimeEnvJson);
    return formatJobId(Number(lastInsertRowid));
  }

  /** Idempotent: finishing a finished or unknown job changes nothing (Ray #53645). True if it was running. */
  markFinished(jobId: string): boolean {
    const rowid = rowidOf(jobId);
    return Number.isFinite(rowid) && this.finish.run(Date.now(), rowid).changes > 0;
  }

  /** Jobs whose driver runs on the node, as far as the table knows. */
  runningOnNode(nodeId: string): string[] {
    return (this.runningOnNodeStmt.all(nodeId) as { job_id: number }[]).map((r) => formatJobId(r.job_id));
  }

  /** How many jobs are in each state (every job ever registered stays in the table). */
  countByState(): Record<JobState, number> {
    const counts: Record<JobState, number> = { RUNNING: 0, FINISHED: 0 };
    for (const r of this.countStmt.all() as { state: JobState; n: number }[]) counts[r.state] = r.n;
    return counts;
  }

  isRunning(jobId: string): boolean {
    const rowid = rowidOf(jobId);
    if (!Number.isFinite(rowid)) return false;
    return (this.stateStmt.get(rowid) as { state: string } | undefined)?.state === 'RUNNING';
  }
}
