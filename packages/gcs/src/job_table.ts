/** Jobs (one per driver): registered when a driver connects, finished when it leaves. */
import type { Db } from './storage/database.js';

export function formatJobId(rowid: number): string {
  return rowid.toString(16).padStart(8, '0');
}

export class JobTable {
  private readonly insert;
  private readonly finish;

  constructor(db: Db) {
    this.insert = db.prepare(`INSERT INTO jobs (node_id, driver_pid, entrypoint, job_dir, start_time_ms, state)
      VALUES (?, ?, ?, ?, ?, 'RUNNING')`);
    this.finish = db.prepare(`UPDATE jobs SET state = 'FINISHED', end_time_ms = ? WHERE job_id = ? AND state = 'RUNNING'`);
  }

  register(nodeId: string, driverPid: number, entrypoint: string, jobDir: string): string {
    const { lastInsertRowid } = this.insert.run(nodeId, driverPid, entrypoint.slice(0, 4096), jobDir.slice(0, 4096), Date.now());
    return formatJobId(Number(lastInsertRowid));
  }

  /** Idempotent: finishing a finished or unknown job changes nothing (Ray #53645). */
  markFinished(jobId: string): void {
    const rowid = Number.parseInt(jobId, 16);
    if (Number.isFinite(rowid)) this.finish.run(Date.now(), rowid);
  }
}
