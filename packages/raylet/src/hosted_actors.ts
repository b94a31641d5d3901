/**
 * The actors this raylet hosts (the state behind its ActorHostService): each lives in a dedicated
 * worker taken out of the task pool. A creation waits for the actor's placement resources and for
 * an idle worker of its job, holds its resources while it lives, and is answered once the
 * constructor ran. Calls from callers on this node go straight to the worker's own socket; calls
 * from other nodes arrive here (PushActorTask) and are relayed over the worker's raylet
 * connection. When the worker exits, its resources come back, relayed calls fail, and the head
 * hears of the death.
 */
import { staysLocal, toResourceMap, type ActorSpecMsgOutput, type Logger, type ResourceMap, type SessionPaths } from '@rayts/common';
import type { LocalScheduler, WorkerSlot } from './local_scheduler.js';
import type { ActorCreation, RayletMessage, TaskFailure, TaskOutcome, TaskSpec } from './protocol.js';
import { argFromMsg, packRun } from '@rayts/core-worker';
import type { DirectCallCounts } from './direct_call_counts.js';
import { bindToJob, jobDirOf } from './jobs/worker_binding.js';
import type { PreparedEnv } from './jobs/runtime_envs.js';
import { NO_GPUS, type GpuGrant } from './gpu_ids.js';

export interface HostedActor {
  actorId: string;
  workerId: string;
  pid: number;
  jobId: string;
  held: ResourceMap;
  /** The GPU instances the actor holds while it lives. */
  gpus: GpuGrant;
  socketPath: string;
  detached: boolean;
  className: string;
  /** Restarts left (maxRestarts -1 or above the restarts so far): the memory monitor kills such actors before non-retriable work. */
  restartable: boolean;
  /** When it became alive (performance.now()). */
  startedAt: number;
}

export interface CreationResult {
  ok: boolean;
  workerId: string;
  pid: number;
  socketPath: string;
  failure?: TaskFailure;
}

interface PendingCreation {
  spec: ActorSpecMsgOutput;
  classDescriptor?: Uint8Array;
  numRestarts: number;
  placement: ResourceMap;
  held: ResourceMap;
  /** The job's runtime env on this node (the worker is bound to it). */
  env: PreparedEnv;
  resolve: (r: CreationResult) => void;
  /** Set once a worker was given the actor (waiting for its constructor), with the socket it opens. */
  worker?: WorkerSlot;
  socketPath?: string;
  /** Taken with the resources when the creation starts. */
  gpus?: GpuGrant;
}

/** What actor hosting takes from the local scheduler: idle workers and resources held for an actor's life. */
export type ActorResources = Pick<LocalScheduler, 'total' | 'available' | 'canRunNow' | 'leaseIdleWorker' | 'reserve' | 'unreserve'>;

export interface HostedActorsDeps {
  scheduler: ActorResources;
  paths: SessionPaths;
  logger: Logger;
  /** Sends a message to a connected local client (the actor's worker). */
  send(clientId: string, message: RayletMessage): boolean;
  startWorker(): boolean;
  /** How long after a creation the pool's replacement worker is started. */
  refillDelayMs: number;
  /** How long an actor started for a local creator waits for the head's confirmation. */
  reservationTimeoutMs: number;
  /** DEFAULT scheduling keeps an actor here only below this utilisation (as the head would). */
  spreadThreshold: number;
  markDedicated(workerId: string, socketPath: string): void;
  killWorker(workerId: string, reason: string): void;
  /** Tells the head that an actor's worker exited. */
  reportDeath(actorId: string, workerId: string, reason: string): void;
  /** Where each actor worker counts its calls; read a last time when the worker exits. */
  callCounts: Pick<DirectCallCounts, 'pathFor' | 'retire'>;
}

export class HostedActors {
  private readonly byWorker = new Map<string, HostedActor>();
  private readonly byActor = new Map<string, HostedActor>();
  private readonly waiting: PendingCreation[] = [];
  private readonly constructing = new Map<string, PendingCreation>();
  /**
   * Actors started for a creator on this node before the head placed them (reserveForOwner), until
   * the head's CreateActor confirms them; `result` is set once the constructor ran (or failed).
   */
  private readonly unconfirmed = new Map<string, { timer: NodeJS.Timeout; result?: CreationResult }>();
  /** Calls relayed to a local actor worker, by task id. */
  private readonly relayed = new Map<string, { workerId: string; resolve: (o: TaskOutcome) => void }>();
  /** Pending starts of the pool's replacement workers (cleared on stop). */
  private readonly refills = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: HostedActorsDeps) {}

  /** Starts the actor here in its job's prepared env; resolves once its constructor ran (or failed). */
  create(spec: ActorSpecMsgOutput, numRestarts: number, env: PreparedEnv, classDescriptor?: Uint8Array): Promise<CreationResult> {
    const started = this.confirm(spec.actorId);
    if (started) return started;
    const existing = this.byActor.get(spec.actorId);
    if (existing) return Promise.resolve({ ok: true, workerId: existing.workerId, pid: existing.pid, socketPath: existing.socketPath });
    return new Promise((resolve) => {
      this.waiting.push({ spec, classDescriptor, numRestarts, placement: toResourceMap(spec.placementResources), held: toResourceMap(spec.heldResources), env, resolve });
      this.tryStart();
    });
  }

  /**
   * A creator on this node asks to have its new actor started here at once, before the head places
   * it: yes only when nothing waits for a worker, the actor's placement stays local under the DEFAULT
   * policy (it fits and the node stays at most half used, as the head would decide), and an idle
   * worker of its job is there. The head's CreateActor then joins this creation (`confirm`). Gives
   * the worker and the socket the actor will listen on (the creator may connect while it constructs).
   */
  reserveForOwner(spec: ActorSpecMsgOutput, classDescriptor: Uint8Array, env: PreparedEnv): { workerId: string; socketPath: string } | undefined {
    const sched = this.deps.scheduler;
    const placement = toResourceMap(spec.placementResources);
    if (this.waiting.length > 0 || this.byActor.has(spec.actorId) || this.unconfirmed.has(spec.actorId)) return undefined;
    if (!staysLocal(placement, { total: sched.total, available: sched.available }, this.deps.spreadThreshold) || !sched.canRunNow(placement)) return undefined;
    const worker = sched.leaseIdleWorker(spec.jobId);
    if (!worker) return undefined;
    const entry: { timer: NodeJS.Timeout; result?: CreationResult } = {
      timer: setTimeout(() => this.release(spec.actorId, 'the head never placed it'), this.deps.reservationTimeoutMs).unref(),
    };
    this.unconfirmed.set(spec.actorId, entry);
    const p: PendingCreation = { spec, classDescriptor, numRestarts: 0, placement, held: toResourceMap(spec.heldResources), env, resolve: (r) => { entry.result = r; } };
    this.construct(p, worker);
    return { workerId: worker.workerId, socketPath: p.socketPath! };
  }

  /** The creator could not register an actor started for it: it goes. */
  release(actorId: string, reason: string): void {
    const entry = this.unconfirmed.get(actorId);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.unconfirmed.delete(actorId);
    this.deps.logger.info('dropping an actor the head did not place', { actorId, reason });
    this.kill(actorId, reason);
  }

  /** The head asks for an actor started here for its creator: the outcome of that creation, or undefined. */
  private confirm(actorId: string): Promise<CreationResult> | undefined {
    const entry = this.unconfirmed.get(actorId);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.unconfirmed.delete(actorId);
    if (entry.result) return Promise.resolve(entry.result);
    const p = [...this.constructing.values()].find((c) => c.spec.actorId === actorId);
    if (!p) return undefined;
    return new Promise((resolve) => {
      const before = p.resolve;
      p.resolve = (r) => { before(r); resolve(r); };
    });
  }

  /** Gives waiting creations whatever resources and idle workers there are, in arrival order. */
  tryStart(): void {
    const sched = this.deps.scheduler;
    for (let i = 0; i < this.waiting.length;) {
      const p = this.waiting[i]!;
      if (!sched.canRunNow(p.placement)) { i++; continue; }
      const worker = sched.leaseIdleWorker(p.spec.jobId);
      if (!worker) {
        this.deps.startWorker();
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.construct(p, worker);
    }
  }

  /** A worker just connected: a waiting creation takes it before the task pool does (true = taken). */
  offerWorker(slot: WorkerSlot): boolean {
    const sched = this.deps.scheduler;
    const i = this.waiting.findIndex((p) => sched.canRunNow(p.placement));
    if (i < 0) return false;
    const [p] = this.waiting.splice(i, 1);
    // After the worker's welcome, which the local server sends once this returns.
    setImmediate(() => this.construct(p!, slot));
    return true;
  }

  private construct(p: PendingCreation, worker: WorkerSlot): void {
    const { spec } = p;
    const gpus = (p.gpus = this.deps.scheduler.reserve(p.held));
    p.worker = worker;
    const socketPath = (p.socketPath = this.deps.paths.socket(`actor-${worker.workerId.slice(0, 16)}.sock`));
    this.deps.markDedicated(worker.workerId, socketPath);
    this.constructing.set(worker.workerId, p);
    bindToJob(worker, spec.jobId, p.env);
    const actor: ActorCreation = {
      actorId: spec.actorId, jobId: spec.jobId, className: spec.className, classHash: spec.classHash,
      args: spec.args.map(argFromMsg), maxConcurrency: spec.maxConcurrency, driverNodeId: spec.driverNodeId, numRestarts: p.numRestarts,
      classDescriptor: p.classDescriptor,
    };
    this.deps.logger.info('creating actor', { actorId: spec.actorId, className: spec.className, workerId: worker.workerId, pid: worker.pid });
    const callCountsPath = this.deps.callCounts.pathFor(worker.workerId);
    if (!this.deps.send(worker.workerId, { type: 'createActor', actor, jobDir: jobDirOf(p.env, spec.jobDir), socketPath, callCountsPath, gpuIds: gpus.ids })) {
      this.onWorkerExit(worker.workerId, 'the worker disconnected before the actor was created');
    }
  }

  /** The worker answered its createActor. */
  onCreated(workerId: string, failure: TaskFailure | undefined): void {
    const p = this.constructing.get(workerId);
    if (!p?.worker) return;
    this.constructing.delete(workerId);
    // Keep the task pool warm for the next actor or task, a little after this actor is answered:
    // forking blocks this event loop and the new process's start-up competes for the CPUs with the
    // actor's first calls.
    const refill = setTimeout(() => {
      this.refills.delete(refill);
      this.deps.startWorker();
    }, this.deps.refillDelayMs).unref();
    this.refills.add(refill);
    const socketPath = p.socketPath!;
    if (failure) {
      // The worker holds a half-made actor: it goes, and the head marks the actor dead.
      this.deps.scheduler.unreserve(p.held, p.gpus ?? NO_GPUS);
      this.deps.killWorker(workerId, `the constructor of actor ${p.spec.actorId} failed`);
      p.resolve({ ok: false, workerId, pid: p.worker.pid, socketPath, failure });
      return;
    }
    const hosted: HostedActor = {
      actorId: p.spec.actorId, workerId, pid: p.worker.pid, jobId: p.spec.jobId, held: p.held, gpus: p.gpus ?? NO_GPUS, socketPath, detached: p.spec.detached,
      className: p.spec.className, restartable: p.spec.maxRestarts < 0 || p.numRestarts < p.spec.maxRestarts, startedAt: performance.now(),
    };
    this.byWorker.set(workerId, hosted);
    this.byActor.set(hosted.actorId, hosted);
    this.deps.logger.info('actor is alive', { actorId: hosted.actorId, workerId, pid: hosted.pid });
    p.resolve({ ok: true, workerId, pid: hosted.pid, socketPath });
    // A creator on this node can call the actor now, without waiting to hear it from the head
    // (a no-op when the creator is not connected here).
    this.deps.send(p.spec.ownerClientId, { type: 'actorReady', actorId: hosted.actorId, workerId, socketPath, pid: hosted.pid });
  }

  /** The live actors hosted here. */
  list(): HostedActor[] {
    return [...this.byWorker.values()];
  }

  isActorWorker(workerId: string): boolean {
    return this.byWorker.has(workerId) || this.constructing.has(workerId);
  }

  /** An actor worker exited (or its creation could not start): true if it was one of ours. */
  onWorkerExit(workerId: string, reason: string): boolean {
    this.deps.callCounts.retire(workerId);
    const p = this.constructing.get(workerId);
    if (p) {
      this.constructing.delete(workerId);
      this.deps.scheduler.unreserve(p.held, p.gpus ?? NO_GPUS);
      p.resolve({ ok: false, workerId, pid: p.worker?.pid ?? 0, socketPath: '', failure: { type: 'WORKER_DIED', message: reason } });
      return true;
    }
    const hosted = this.byWorker.get(workerId);
    if (!hosted) return false;
    this.byWorker.delete(workerId);
    this.byActor.delete(hosted.actorId);
    // Died before the head confirmed it: the head's CreateActor hears it as a failed creation.
    const unconfirmed = this.unconfirmed.get(hosted.actorId);
    if (unconfirmed) unconfirmed.result = { ok: false, workerId, pid: hosted.pid, socketPath: '', failure: { type: 'WORKER_DIED', message: reason } };
    this.deps.scheduler.unreserve(hosted.held, hosted.gpus);
    for (const [taskId, r] of this.relayed) {
      if (r.workerId !== workerId) continue;
      this.relayed.delete(taskId);
      r.resolve({ taskId, attempt: 0, returnId: '', nodeId: '', failure: { type: 'WORKER_DIED', message: reason, pid: hosted.pid }, run: packRun({ workerId, workerPid: hosted.pid }) });
    }
    this.deps.logger.warn('actor worker exited', { actorId: hosted.actorId, workerId, reason });
    this.deps.reportDeath(hosted.actorId, workerId, reason);
    this.tryStart();
    return true;
  }

  kill(actorId: string, reason: string): boolean {
    const hosted = this.byActor.get(actorId);
    if (hosted) {
      this.deps.killWorker(hosted.workerId, reason);
      return true;
    }
    const i = this.waiting.findIndex((p) => p.spec.actorId === actorId);
    if (i >= 0) {
      const [p] = this.waiting.splice(i, 1);
      p!.resolve({ ok: false, workerId: '', pid: 0, socketPath: '', failure: { type: 'CANCELLED', message: reason } });
      return true;
    }
    for (const [workerId, p] of this.constructing) {
      if (p.spec.actorId === actorId) { this.deps.killWorker(workerId, reason); return true; }
    }
    return false;
  }

  /** Runs a call from another node on a local actor; resolves with its outcome. */
  push(actorId: string, task: TaskSpec): Promise<TaskOutcome> {
    const hosted = this.byActor.get(actorId);
    const failed = (message: string): TaskOutcome => ({ taskId: task.taskId, attempt: task.attempt, returnId: task.returnId, nodeId: '', failure: { type: 'WORKER_DIED', message } });
    if (!hosted) return Promise.resolve(failed(`actor ${actorId} does not run on this node (it died or moved)`));
    return new Promise((resolve) => {
      this.relayed.set(task.taskId, { workerId: hosted.workerId, resolve: (o) => resolve({ ...o, attempt: task.attempt, returnId: task.returnId }) });
      if (!this.deps.send(hosted.workerId, { type: 'execute', task, jobDir: '' })) {
        this.relayed.delete(task.taskId);
        resolve(failed(`actor ${actorId}'s worker is not connected`));
      }
    });
  }

  /** An actor worker finished a relayed call. */
  onCallDone(outcome: TaskOutcome): void {
    const r = this.relayed.get(outcome.taskId);
    if (!r) return;
    this.relayed.delete(outcome.taskId);
    r.resolve(outcome);
  }

  /** Whether an actor of the job lives (or is being created) here: its runtime env must stay. */
  hostsJob(jobId: string): boolean {
    return [...this.byActor.values()].some((a) => a.jobId === jobId) || [...this.constructing.values()].some((p) => p.spec.jobId === jobId)
      || this.waiting.some((p) => p.spec.jobId === jobId);
  }

  /** Actors the head placed here (not those still waiting for its confirmation: it does not know them yet). */
  liveActorIds(): string[] {
    return [...this.byActor.keys()].filter((id) => !this.unconfirmed.has(id));
  }

  /** Creations waiting here for resources or a worker, for `rayts status`. */
  demands(): { shape: ResourceMap; count: number }[] {
    return this.waiting.map((p) => ({ shape: p.placement, count: 1 }));
  }

  /** Clears every timer (the raylet is stopping; its workers go with it). */
  stop(): void {
    for (const timer of this.refills) clearTimeout(timer);
    this.refills.clear();
    for (const entry of this.unconfirmed.values()) clearTimeout(entry.timer);
    this.unconfirmed.clear();
  }
}
