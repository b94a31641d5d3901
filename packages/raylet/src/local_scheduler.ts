/**
 * The raylet's local scheduler: resource accounting, the queue of tasks waiting for resources or a
 * worker, and dispatch to workers. Workers serve one job at a time (they keep that job's functions
 * and imports); an idle worker with no job takes the first job that needs it. A worker blocked in
 * `get` gives its CPUs back so nested tasks can run.
 */
import { fits, FunctionStats, type Logger, type PipelineLimits, type ResourceMap } from '@rayts/common';
import type { Execute, ResourceDemand, TaskOutcome } from './protocol.js';
import { acquire, cpuPart, release, shapeKey, subtract } from './resource_accounting.js';
import { packRun } from '@rayts/core-worker';
import { bindToJob, jobDirOf } from './jobs/worker_binding.js';
import { SchedulingQueues, type ClassQueue } from './scheduling_queues.js';
export type { PipelineLimits } from '@rayts/common';
import { GpuIds, NO_GPUS, gpuDemand, type GpuGrant } from './gpu_ids.js';
import { OwnerBacklogs } from './owner_backlogs.js';
import type { QueuedTask, WorkerSlot } from './scheduler_entries.js';
export type { LeaseRequest, QueuedTask, WorkerSlot } from './scheduler_entries.js';

/** The execute message for a task on a worker: with the job's directory and the GPUs the worker holds. */
function executeOn(worker: WorkerSlot, task: QueuedTask): Execute {
  return { type: 'execute', task: task.spec, jobDir: jobDirOf(task.env, task.jobDir), gpuIds: worker.gpus?.ids ?? [] };
}

export interface LocalSchedulerOptions {
  /** The node's resources (placement-group bundles add to it in place). */
  total: ResourceMap;
  /** The device of each GPU instance (CUDA_VISIBLE_DEVICES of the raylet); default 0..N-1. */
  gpuDevices?: number[];
  workers: WorkerSource;
  pipeline: PipelineLimits;
  logger: Logger;
}

export interface WorkerSource {
  /** Starts one more worker unless the limit of starting/total workers is reached; false if not. */
  startWorker(): boolean;
  /** Kills a worker (its process group). */
  killWorker(workerId: string, reason: string): void;
}

export class LocalScheduler {
  readonly total: ResourceMap;
  readonly available: ResourceMap;
  private readonly source: WorkerSource;
  private readonly pipeline: PipelineLimits;
  private readonly logger: Logger;
  /** FIFO queues per scheduling class, so a blocked class costs O(1) per dispatch; classes take turns. */
  private readonly queues = new SchedulingQueues<QueuedTask>();
  /** Tasks owners hold back for leases they asked for here. */
  private readonly backlogs = new OwnerBacklogs();
  private readonly workers = new Map<string, WorkerSlot>();
  /** Workers with no running task. */
  private readonly idle = new Set<WorkerSlot>();
  private dispatching = false;
  private readonly functions: FunctionStats;
  /** Which GPU instances are held (the `GPU` quantity in `available` says how much, this says which). */
  private readonly gpus: GpuIds;
  /** Task attempts that ended on this pool's workers: the outcome a worker sent, or its death. */
  private readonly ended = { finished: 0, failed: 0 };
  /** Leases granted since the raylet started, and lease requests in the queues now. */
  private leasesGranted = 0;
  private queuedLeases = 0;

  /** A busy, unblocked worker of the job running the same shape, with room in its pipeline. */
  private pipelineWorkerFor(task: QueuedTask): WorkerSlot | undefined {
    const key = shapeKey(task.spec.resources);
    let best: WorkerSlot | undefined;
    for (const w of this.workers.values()) {
      if (!w.running || w.running.lease || w.blocked || w.jobId !== task.spec.jobId || !w.held || shapeKey(w.held) !== key) continue;
      // Never behind the task that submitted it (or its owner): that would wait on itself.
      if (task.spec.owner.clientId === w.workerId) continue;
      const depth = w.pipeline?.length ?? 0;
      if (depth < this.pipeline.depth && (!best || depth < (best.pipeline?.length ?? 0))) best = w;
    }
    return best;
  }

  constructor(options: LocalSchedulerOptions) {
    this.total = options.total;
    this.available = { ...options.total };
    this.source = options.workers;
    this.pipeline = options.pipeline;
    this.functions = new FunctionStats(options.pipeline);
    this.gpus = new GpuIds(options.total.GPU ?? 0, options.gpuDevices);
    this.logger = options.logger;
  }

  feasible(shape: ResourceMap): boolean {
    return fits(shape, this.total);
  }

  canRunNow(shape: ResourceMap): boolean {
    return fits(shape, this.available) && this.gpus.fits(gpuDemand(shape));
  }

  enqueue(task: QueuedTask): void {
    if (task.lease) this.queuedLeases += 1;
    this.queues.push(task);
    this.dispatch();
  }

  /** A worker joins the task pool (the node manager offered it to waiting actor creations first). */
  addWorker(slot: WorkerSlot): void {
    slot.idleSince = performance.now();
    this.workers.set(slot.workerId, slot);
    this.idle.add(slot);
    this.dispatch();
  }

  /** Takes an idle worker of the job (or an unbound one, the caller binds it) out of the pool for good, for an actor. */
  leaseIdleWorker(jobId: string): WorkerSlot | undefined {
    const w = this.idleWorkerFor(jobId);
    if (!w) return undefined;
    this.idle.delete(w);
    this.workers.delete(w.workerId);
    return w;
  }

  /** Holds resources outside of task dispatch (an actor's, for its lifetime); gives the GPUs it holds. */
  reserve(shape: ResourceMap): GpuGrant {
    acquire(this.available, shape);
    return this.gpus.take(gpuDemand(shape)) ?? NO_GPUS;
  }

  unreserve(shape: ResourceMap, gpus: GpuGrant): void {
    release(this.available, shape, this.total);
    this.gpus.release(gpus);
    this.dispatch();
  }

  workerList(): WorkerSlot[] {
    return [...this.workers.values()];
  }

  /**
   * Runs queued tasks while resources and workers allow: in queue order within a scheduling class,
   * and one task per class in turn across classes, starting with the class served least recently.
   */
  dispatch(): void {
    if (this.dispatching || this.queues.length === 0) return;
    this.dispatching = true;
    try {
      let needWorker = false;
      let progress = true;
      while (progress && this.queues.length > 0) {
        progress = false;
        for (const q of this.queues.inTurnOrder()) {
          const outcome = this.startNext(q);
          if (outcome === 'no-worker') needWorker = true;
          if (outcome !== 'started') continue;
          progress = true;
          this.queues.served(q);
        }
      }
      // No idle worker or no free resources left: short tasks queue up behind running ones of the
      // same job and shape, so a worker never waits a round trip for its next task.
      for (const q of this.queues.classes()) {
        for (let next = q.tasks.peek(); next && !next.lease && this.functions.pipelinable(next.spec.fnHash); next = q.tasks.peek()) {
          const worker = this.pipelineWorkerFor(next);
          if (!worker) break;
          this.queues.shift(q);
          (worker.pipeline ??= []).push(next);
          worker.send(executeOn(worker, next));
        }
      }
      if (needWorker) this.source.startWorker();
    } finally {
      this.dispatching = false;
    }
  }

  /** Starts the first task of a class on an idle worker, if its resources are free and a worker is. */
  private startNext(q: ClassQueue<QueuedTask>): 'started' | 'no-resources' | 'no-worker' {
    const task = q.tasks.peek();
    if (!task || !this.canRunNow(task.spec.resources)) return 'no-resources';
    const worker = this.idleWorkerFor(task.spec.jobId);
    if (!worker) return 'no-worker';
    worker.startedAt = performance.now();
    this.queues.shift(q);
    acquire(this.available, task.spec.resources);
    bindToJob(worker, task.spec.jobId, task.env);
    worker.running = task;
    worker.held = task.spec.resources;
    worker.gpus = this.gpus.take(gpuDemand(task.spec.resources));
    this.idle.delete(worker);
    if (task.lease) {
      this.queuedLeases -= 1;
      this.leasesGranted += 1;
      task.lease.granted(worker, jobDirOf(task.env, task.jobDir));
    } else {
      worker.send(executeOn(worker, task));
    }
    return 'started';
  }

  private idleWorkerFor(jobId: string): WorkerSlot | undefined {
    let unbound: WorkerSlot | undefined;
    for (const w of this.idle) {
      if (w.jobId === jobId) return w;
      if (!w.jobId && !unbound) unbound = w;
    }
    return unbound;
  }

  onTaskDone(workerId: string, outcome: TaskOutcome): void {
    const w = this.workers.get(workerId);
    const task = w?.running;
    if (!w || !task || task.spec.taskId !== outcome.taskId) {
      this.logger.warn('task outcome from a worker that was not running it', { workerId, taskId: outcome.taskId });
      return;
    }
    if (w.startedAt !== undefined) this.functions.recordRun(task.spec.fnHash, performance.now() - w.startedAt);
    if (outcome.failure) this.ended.failed += 1;
    else this.ended.finished += 1;
    const next = w.pipeline?.shift();
    if (next) {
      // The next pipelined task runs on the same resources.
      w.running = next;
      w.startedAt = performance.now();
    } else {
      this.finish(w);
    }
    task.deliver(outcome);
    this.dispatch();
  }

  /**
   * The holder gives a lease back: its worker is idle again. A request not granted yet is withdrawn
   * (one waiting for its job's env is granted later, and the holder returns it at once). `kill`: the
   * holder lost its connection to the worker, which is killed (its exit ends the lease as lost).
   */
  returnLease(holder: string, leaseId: number, kill?: string): void {
    const matches = (t: QueuedTask | undefined) => t?.lease?.holder === holder && t.lease.leaseId === leaseId;
    for (const w of this.workers.values()) {
      if (!matches(w.running)) continue;
      if (kill) this.source.killWorker(w.workerId, kill);
      else {
        this.finish(w);
        this.dispatch();
      }
      return;
    }
    this.takeQueued(matches);
  }

  /** An owner holds back `size` tasks of a kind (beyond its lease requests): shown in the demands. */
  reportBacklog(owner: string, key: string, shape: ResourceMap, size: number): void {
    this.backlogs.report(owner, key, shape, size);
  }

  /** A lease holder disconnected: its requests and backlog are dropped and the workers it held are killed (they may run its tasks still). */
  dropLeasesOf(holder: string): void {
    this.backlogs.dropOwner(holder);
    this.takeQueued((t) => t.lease?.holder === holder);
    for (const w of [...this.workers.values()]) {
      if (w.running?.lease?.holder === holder) this.source.killWorker(w.workerId, 'the owner it was leased to disconnected');
    }
  }

  /** A worker whose task blocked handed back the tasks queued behind it: they go to the front again. */
  onTasksReturned(workerId: string, taskIds: string[]): void {
    const w = this.workers.get(workerId);
    if (!w?.pipeline) return;
    const ids = new Set(taskIds);
    const back = w.pipeline.filter((t) => ids.has(t.spec.taskId));
    w.pipeline = w.pipeline.filter((t) => !ids.has(t.spec.taskId));
    this.queues.returnToFront(back);
    this.dispatch();
  }

  private finish(w: WorkerSlot): void {
    if (w.held) release(this.available, w.blocked ? subtract(w.held, cpuPart(w.held)) : w.held, this.total);
    this.gpus.release(w.gpus);
    w.running = undefined;
    w.held = undefined;
    w.gpus = undefined;
    w.blocked = false;
    if (this.workers.has(w.workerId)) {
      this.idle.add(w);
      w.idleSince = performance.now();
    }
  }

  /**
   * Workers beyond the pool's target that sat idle longer than `idleMs` (started while others were
   * blocked in get, say) are stopped, as Ray reaps idle extras after a second. Returns their ids.
   */
  reapIdle(target: number, idleMs: number): string[] {
    const excess = this.workers.size - target;
    if (excess <= 0) return [];
    const now = performance.now();
    const reaped: string[] = [];
    for (const w of this.idle) {
      if (reaped.length >= excess) break;
      if (now - (w.idleSince ?? now) < idleMs) continue;
      this.idle.delete(w);
      this.workers.delete(w.workerId);
      this.source.killWorker(w.workerId, `idle for ${Math.round(now - (w.idleSince ?? now))} ms beyond the pool size`);
      reaped.push(w.workerId);
    }
    return reaped;
  }

  /** The worker exited: what ran or waited on it fails as WORKER_DIED (with `errorName` when the raylet said why, e.g. OutOfMemoryError). */
  onWorkerGone(workerId: string, reason: string, errorName?: string): void {
    const w = this.workers.get(workerId);
    if (!w) return;
    this.workers.delete(workerId);
    this.idle.delete(w);
    const tasks = [w.running, ...(w.pipeline ?? [])].filter((t): t is QueuedTask => !!t);
    if (w.running) this.finish(w);
    w.pipeline = undefined;
    // A lease's tasks are counted by the worker itself (its counts file); the raylet counts what it ran.
    this.ended.failed += tasks.filter((t) => !t.lease).length;
    for (const task of tasks) {
      task.deliver({
        taskId: task.spec.taskId, attempt: task.spec.attempt, returnId: task.spec.returnId, nodeId: '',
        failure: { type: 'WORKER_DIED', message: reason, pid: w.pid, ...(errorName ? { errorName } : {}) }, run: packRun({ workerId, workerPid: w.pid }),
      });
    }
    this.dispatch();
  }

  onBlocked(workerId: string): void {
    const w = this.workers.get(workerId);
    if (!w?.running || w.blocked || !w.held) return;
    w.blocked = true;
    this.functions.recordBlocked(w.running.spec.fnHash);
    release(this.available, cpuPart(w.held), this.total);
    this.dispatch();
  }

  onUnblocked(workerId: string): void {
    const w = this.workers.get(workerId);
    if (!w?.running || !w.blocked || !w.held) return;
    w.blocked = false;
    // May oversubscribe briefly, as Ray does: the worker is about to continue its task anyway.
    acquire(this.available, cpuPart(w.held));
  }

  /** A driver went away: its queued tasks are dropped and its workers killed (they hold its state). */
  onJobGone(jobId: string): void {
    this.takeQueued((t) => t.spec.jobId === jobId);
    for (const w of [...this.workers.values()]) {
      if (w.jobId === jobId) this.source.killWorker(w.workerId, `job ${jobId} ended`);
    }
  }

  /**
   * Cancels a task: a queued one is answered CANCELLED at once; a running one is killed with its
   * worker when `force` (the owner reports it as cancelled). Returns whether it was found here.
   */
  cancel(taskId: string, force: boolean): boolean {
    const [queued] = this.takeQueued((t) => t.spec.taskId === taskId);
    if (queued) {
      queued.deliver({ taskId, attempt: queued.spec.attempt, returnId: queued.spec.returnId, nodeId: '', failure: { type: 'CANCELLED', message: 'cancelled before it ran' } });
      return true;
    }
    for (const w of this.workers.values()) {
      if (w.running?.spec.taskId !== taskId && !w.pipeline?.some((t) => t.spec.taskId === taskId)) continue;
      if (force) this.source.killWorker(w.workerId, `task ${taskId} was cancelled with force`);
      return true;
    }
    return false;
  }

  /** Shapes waiting here, for `rayts status` Pending Demands. */
  demands(infeasible: (shape: ResourceMap) => boolean): ResourceDemand[] {
    const byShape = new Map<string, ResourceDemand>();
    this.backlogs.addTo(byShape);
    return this.queues.demands(infeasible, byShape);
  }

  /** The tasks queued here, class by class (what tests look at). */
  queued(): QueuedTask[] {
    return this.queues.all();
  }

  /** Removes queued tasks matching `predicate` (to move them elsewhere) and returns them. */
  takeQueued(predicate: (t: QueuedTask) => boolean): QueuedTask[] {
    const taken = this.queues.take(predicate);
    for (const t of taken) if (t.lease) this.queuedLeases -= 1;
    return taken;
  }

  /** Task attempts that ended here so far (for the node's metrics). */
  endedAttempts(): { finished: number; failed: number } {
    return { ...this.ended };
  }

  /**
   * Tasks waiting here, running on a worker, and sent to a busy worker behind its running one; lease
   * requests waiting, leases held (their tasks are their owners' to count), and leases granted so far.
   */
  taskCounts(): { queued: number; running: number; pipelined: number; leaseRequests: number; leased: number; leasesGranted: number } {
    let running = 0;
    let leased = 0;
    let pipelined = 0;
    for (const w of this.workers.values()) {
      if (w.running?.lease) leased += 1;
      else if (w.running) running += 1;
      pipelined += w.pipeline?.length ?? 0;
    }
    return { queued: this.queues.length - this.queuedLeases, running, pipelined, leaseRequests: this.queuedLeases, leased, leasesGranted: this.leasesGranted };
  }

  get busyWorkers(): number {
    return [...this.workers.values()].filter((w) => w.running && !w.blocked).length;
  }
}
