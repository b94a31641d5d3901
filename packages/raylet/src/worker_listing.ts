/**
 * The node's workers as `rayts list workers` shows them (Ray's WorkerState): the pool's live and
 * recently exited worker processes, and the drivers connected to this raylet; the live ones with
 * their CPU and resident memory. A pool worker whose process has already exited (gone, or a zombie
 * the pool has not reaped yet) is listed as not alive; the next listing has its exit type.
 */
import type { WorkerInfo } from '@rayts/common';
import type { ProcessUsage } from './process_usage.js';
import type { LocalClients } from './local_clients.js';
import type { WorkerPool } from './worker_pool.js';

export function listWorkers(pool: Pick<WorkerPool, 'list' | 'exited'>, clients: Pick<LocalClients, 'list'>, usage: Pick<ProcessUsage, 'read'>): WorkerInfo[] {
  const connected = new Map(clients.list().map((c) => [c.clientId, c]));
  const live: WorkerInfo[] = pool.list().map((w) => ({
    workerId: w.workerId, pid: w.pid, workerType: 'WORKER', isAlive: true, exitType: '', exitDetail: '',
    jobId: connected.get(w.workerId)?.jobId ?? '', startTimeMs: w.startTimeMs, endTimeMs: 0,
  }));
  const drivers: WorkerInfo[] = clients.list().filter((c) => c.role === 'driver').map((c) => ({
    workerId: c.clientId, pid: c.pid, workerType: 'DRIVER', isAlive: true, exitType: '', exitDetail: '',
    jobId: c.jobId, startTimeMs: c.connectedAtMs, endTimeMs: 0,
  }));
  const exited: WorkerInfo[] = pool.exited().map((w) => ({
    workerId: w.workerId, pid: w.pid, workerType: 'WORKER', isAlive: false, exitType: w.exitType, exitDetail: w.exitDetail,
    jobId: '', startTimeMs: w.startTimeMs, endTimeMs: w.endTimeMs,
  }));
  const alive = [...drivers, ...live];
  usage.read(alive.map((w) => w.pid ?? 0)).forEach((u, i) => {
    const w = alive[i]!;
    if (u) Object.assign(w, { cpuPercent: u.cpuPercent, rssBytes: u.rssBytes });
    // A driver this raylet cannot read (another pid namespace) stays alive with unknown usage (0).
    else if (w.workerType === 'WORKER') Object.assign(w, { isAlive: false, exitDetail: 'the process has exited; the raylet is recording how' });
  });
  return [...alive, ...exited];
}
