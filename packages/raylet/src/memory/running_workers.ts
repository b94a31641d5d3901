/**
 * The memory monitor's view of the node's busy workers: the task pool's workers with a running
 * task (from the local scheduler) and the workers hosting an actor (from the hosted actors), with
 * when their work started and whether it can be retried.
 */
import type { WorkerSlot } from '../local_scheduler.js';
import type { HostedActor } from '../hosted_actors.js';
import type { WorkerCandidate } from './victim_policy.js';

export interface RunningWorkersSources {
  scheduler: { workerList(): WorkerSlot[] };
  actors: { list(): HostedActor[] };
  pool: { get(workerId: string): unknown };
}

export class RunningWorkers {
  constructor(private readonly sources: RunningWorkersSources) {}

  running(): WorkerCandidate[] {
    const out: WorkerCandidate[] = [];
    for (const w of this.sources.scheduler.workerList()) {
      const task = w.running?.spec;
      if (!task || w.startedAt === undefined) continue;
      // A task forwarded by another raylet does not carry the flag (it is not in the gRPC spec): retriable, as the default maxRetries is.
      out.push({ workerId: w.workerId, pid: w.pid, startedAtMs: w.startedAt, retriable: task.retriable !== false, taskName: task.name, taskId: task.taskId });
    }
    for (const a of this.sources.actors.list()) {
      out.push({ workerId: a.workerId, pid: a.pid, startedAtMs: a.startedAt, retriable: a.restartable, taskName: a.className, taskId: '', actorId: a.actorId });
    }
    return out;
  }

  isAlive(workerId: string): boolean {
    return this.sources.pool.get(workerId) !== undefined;
  }
}
