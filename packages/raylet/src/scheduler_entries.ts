/**
 * What the local scheduler holds: queued tasks (and owners' lease requests, queued like tasks) and
 * the workers of the task pool as it sees them.
 */
import type { ResourceMap } from '@rayts/common';
import type { BindJob, Execute, Leased, TaskOutcome, TaskSpec } from './protocol.js';
import type { PreparedEnv } from './jobs/runtime_envs.js';
import type { GpuGrant } from './gpu_ids.js';

export interface QueuedTask {
  spec: TaskSpec;
  /** The driver's directory (forwarded with the task); `env` is the job's env on this node, once ready. */
  jobDir: string;
  env?: PreparedEnv;
  /** Sends the outcome to the owner (locally, or back through the node that forwarded the task). */
  deliver: (outcome: TaskOutcome) => void;
  queuedAt: number;
  /**
   * Set when this is an owner's request for a worker (a lease), not a task: it is queued, placed and
   * given resources like one, but starting it hands the worker to the owner, which pushes tasks to it
   * itself; the worker stays running (its resources held) until the lease comes back. `deliver` with
   * a failure tells the holder the lease ended (its worker died).
   */
  lease?: LeaseRequest;
}

/** An owner's request for a leased worker, as the scheduler and the router see it. */
export interface LeaseRequest {
  /** The client that asked, and its number for the lease. */
  holder: string;
  leaseId: number;
  /** The worker is the holder's now (bound to the job, resources held): tell both. */
  granted(worker: WorkerSlot, jobDir: string): void;
  /** Not leased here: the holder sends its tasks through the raylet instead. */
  rejected(reason: string): void;
}

/**
 * A worker of the task pool as the scheduler sees it. Invariants: `running`, `held` and `startedAt`
 * are set together, while the worker runs a task (it is then out of the idle set); `pipeline` and
 * `blocked` mean something only then. `jobId`, once set, stays: the worker serves that job only.
 */
export interface WorkerSlot {
  workerId: string;
  pid: number;
  send: (message: Execute | BindJob | Leased) => void;
  jobId?: string;
  running?: QueuedTask;
  /** Short tasks of the same job and shape sent behind the running one (they reuse its resources). */
  pipeline?: QueuedTask[];
  startedAt?: number;
  held?: ResourceMap;
  /** The GPU instances the running task holds (pipelined tasks run on them too). */
  gpus?: GpuGrant;
  blocked: boolean;
  /** When the worker last became idle (performance.now()). */
  idleSince?: number;
}
