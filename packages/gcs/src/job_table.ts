/** Jobs (one per driver): registered when a driver connects, finished when it leaves. */
import type { Db } from './storage/database.js';

export function formatJobId(rowid: number): string {
  return rowid.toString(16).padStart(8, '0');
}

export const JOB_STATES = ['RUNNING', 'FINISHED'] as const;
export type JobState = (typeof JOB_STATES)[number];

export class JobTable {
  private readonly insert;
  private readonly finish;
  private readonly runningOnNodeStmt;
  private readonly stateStmt;
  private readonly countStmt;

  constructor(db: Db) {
    this.insert = db.prepare(`INSERT INTO jobs (node_id, driver_pid, entrypoint, job_dir, start_time_ms, state)
      VALUES (?, ?, ?, ?, ?, 'RUNNING')`);
    this.finish = db.prepare(`UPDATE jobs SET state = 'FINISHED', end_time_ms = ? WHERE job_id = ? AND state = 'RUNNING'`);
    this.runningOnNodeStmt = db.prepare(`SELECT job_id FROM jobs WHERE node_id = ? AND state = 'RUNNING'`);
    this.stateStmt = db.prepare(`SELECT state FROM jobs WHERE job_id = ?`);
    this.countStmt = db.prepare(`SELECT state, COUNT(*) AS n FROM jobs GROUP BY state`);
  }

  register(nodeId: string, driverPid: number, entrypoint: string, jobDir: string): string {
    const { lastInsertRowid } = this.insert.run(nodeId, driverPid, entrypoint.slice(0, 4096), jobDir.slice(0, 4096), Date.now());
    return formatJobId(Number(lastInsertRowid));
  }

  /** Idempotent: finishing a finished or unknown job changes nothing (Ray #53645). True if it was running. */
  markFinished(jobId: string): boolean {
    const rowid = Number.parseInt(jobId, 16);
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
    const rowid = Number.parseInt(jobId, 16);
    if (!Number.isFinite(rowid)) return false;
    return (this.stateStmt.get(rowid) as { state: string } | undefined)?.state === 'RUNNING';
  }
}
