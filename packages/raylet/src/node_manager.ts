/**
 * The raylet's node manager (Ray's NodeManager): it answers the drivers and workers on the local
 * socket. Submitted tasks go to the router, finished ones back to the scheduler or the actor host,
 * actor calls to a local actor or to the raylet of the actor's node, logs to the driver's node, and
 * object requests to their own part. It also tracks the drivers per job (a job whose last driver
 * left is ended), hands connecting workers to waiting actor creations before the task pool, and
 * stops idle extra workers.
 */
import type { ActorHostClient, ActorSpecMsgOutput, ClientPool, GcsClient, Logger, RayletClient, ResourceMap } from '@rayts/common';
import type { LocalClient, LocalClients } from './local_clients.js';
import type { LocalServerHandlers } from './local_server.js';
import type { LocalScheduler, WorkerSlot } from './local_scheduler.js';
import type { LocalObjectRequests, LocalRequest } from './local_object_requests.js';
import type { HostedActors } from './hosted_actors.js';
import type { ObjectManager } from './object_manager.js';
import type { NodeDirectory, TaskRouter } from './task_router.js';
import type { WorkerPool } from './worker_pool.js';
import type { ClientMessage, TaskFailure, TaskOutcome, TaskSpec } from './protocol.js';
import { outcomeFromProto, specToProto } from './task_proto.js';
import type { RuntimeEnvs } from './jobs/runtime_envs.js';
import type { RuntimeEnvGate } from './jobs/env_gate.js';

export type NodeScheduler = Pick<LocalScheduler,
  'addWorker' | 'workerList' | 'onTaskDone' | 'onTasksReturned' | 'onBlocked' | 'onUnblocked' | 'onJobGone' | 'onWorkerGone' | 'cancel' | 'reapIdle' | 'returnLease' | 'dropLeasesOf' | 'reportBacklog'>;

/** Where a leased worker listens for its holder's tasks, and where it counts them (the raylet reads the counts for its metrics). */
export interface LeasedWorkers {
  socketPath(workerId: string): string;
  countsPath(workerId: string): string;
  /** The worker exited: its counts join the totals. */
  retire(workerId: string): void;
}
export type NodeActors = Pick<HostedActors,
  'offerWorker' | 'isActorWorker' | 'onCallDone' | 'onCreated' | 'onWorkerExit' | 'push' | 'reserveForOwner' | 'release'>;

export interface NodeManagerTiming {
  /** A worker that closed its connection but lives on is killed this long after. */
  workerDisconnectKillDelayMs: number;
  /** Idle workers beyond `prestartTarget` are stopped after this long. */
  idleWorkerKillMs: number;
  prestartTarget: number;
}

export interface NodeManagerDeps {
  nodeId: string;
  nodeIp: string;
  resources: ResourceMap;
  workers: Pick<WorkerPool, 'markConnected' | 'killWorker'>;
  scheduler: NodeScheduler;
  router: Pick<TaskRouter, 'route' | 'cancelUnplaced'> & NodeDirectory;
  /** Tasks waiting for their job's runtime env (before the scheduler's queue). */
  gate: Pick<RuntimeEnvGate, 'cancel' | 'dropJob'>;
  envs: Pick<RuntimeEnvs, 'forJob' | 'prime'>;
  actors: NodeActors;
  objectRequests: Pick<LocalObjectRequests, 'handle'>;
  /** The pins of a client that left are released. */
  objects: Pick<ObjectManager, 'clientGone'>;
  clients: Pick<LocalClients, 'send' | 'toDrivers'>;
  leased: LeasedWorkers;
  raylets: ClientPool<RayletClient>;
  actorHosts: ClientPool<ActorHostClient>;
  gcs: Pick<GcsClient, 'finishJob'>;
  timing: NodeManagerTiming;
  logger: Logger;
}

export class NodeManager implements LocalServerHandlers {
  /** Drivers connected here, per job: the job ends when its count drops to zero. */
  private readonly jobDrivers = new Map<string, number>();
  /** Kills pending for workers that closed their connection. */
  private readonly pendingKills = new Set<NodeJS.Timeout>();
  private reaper?: NodeJS.Timeout;
  /** Set by stop: no new timers (the worker pool's own stop kills what is left). */
  private stopped = false;

  constructor(private readonly deps: NodeManagerDeps) {}

  /** Starts stopping idle extra workers, as Ray reaps them. */
  start(): void {
    const { idleWorkerKillMs, prestartTarget } = this.deps.timing;
    this.reaper = setInterval(() => this.deps.scheduler.reapIdle(prestartTarget, idleWorkerKillMs), Math.max(100, idleWorkerKillMs / 2));
    this.reaper.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.reaper);
    for (const timer of this.pendingKills) clearTimeout(timer);
    this.pendingKills.clear();
  }

  liveJobIds(): string[] {
    return [...this.jobDrivers.keys()];
  }

  /** A worker process exited: what ran on it fails (an actor's worker, or one of the task pool), with `errorName` when the raylet killed it for one (OutOfMemoryError). */
  workerExited(workerId: string, reason: string, errorName?: string): void {
    this.deps.leased.retire(workerId);
    if (!this.deps.actors.onWorkerExit(workerId, reason)) this.deps.scheduler.onWorkerGone(workerId, reason, errorName);
  }

  workerConnected(client: LocalClient, workerId: string): boolean {
    if (!this.deps.workers.markConnected(workerId, client.pid)) return false;
    this.deps.logger.debug('worker connected', { workerId, pid: client.pid });
    const slot: WorkerSlot = { workerId, pid: client.pid, blocked: false, send: (m) => client.conn.send(m) };
    if (!this.deps.actors.offerWorker(slot)) this.deps.scheduler.addWorker(slot);
    return true;
  }

  driverConnected(client: LocalClient): void {
    this.jobDrivers.set(client.jobId, (this.jobDrivers.get(client.jobId) ?? 0) + 1);
    // The driver said what its job's runtime env is: its tasks here need not ask the head first.
    this.deps.envs.prime(client.jobId, client.runtimeEnvJson);
    this.deps.logger.info('driver connected', { jobId: client.jobId, pid: client.pid });
  }

  disconnected(client: LocalClient): void {
    const { objects, workers, scheduler, gcs, logger } = this.deps;
    objects.clientGone(client.clientId);
    scheduler.dropLeasesOf(client.clientId);
    if (client.role === 'worker') {
      if (this.stopped) return;
      // Usually the process is exiting: its exit (with the code or signal) fails the running task.
      // A worker that closed the connection but lives on is killed, which leads to the same path.
      const timer = setTimeout(() => {
        this.pendingKills.delete(timer);
        workers.killWorker(client.clientId, 'closed its raylet connection');
      }, this.deps.timing.workerDisconnectKillDelayMs).unref();
      this.pendingKills.add(timer);
      return;
    }
    const left = (this.jobDrivers.get(client.jobId) ?? 1) - 1;
    if (left > 0) this.jobDrivers.set(client.jobId, left);
    else {
      this.jobDrivers.delete(client.jobId);
      this.deps.gate.dropJob(client.jobId);
      scheduler.onJobGone(client.jobId);
      // A driver that died without shutdown never told the head; its non-detached actors must go.
      // (Idempotent; if the head is out of reach, re-registration reconciles the job.)
      void gcs.finishJob(client.jobId).catch(() => undefined);
    }
    logger.info('driver disconnected', { jobId: client.jobId, pid: client.pid });
  }

  submit(client: LocalClient, task: TaskSpec): void {
    const { scheduler, router, clients, nodeId } = this.deps;
    this.deps.logger.debug('task submitted', { taskId: task.taskId, name: task.name, from: client.clientId });
    router.route({
      spec: task, jobDir: this.jobDirOf(client), queuedAt: Date.now(),
      deliver: (outcome: TaskOutcome) => { clients.send(task.owner.clientId, { type: 'taskResult', outcome: { ...outcome, nodeId: outcome.nodeId || nodeId } }); },
    });
  }

  /** Where the client's job's code is: a driver's directory, or that of the task a worker runs. */
  private jobDirOf(client: LocalClient): string {
    if (client.role === 'driver') return client.jobDir;
    return this.deps.scheduler.workerList().find((w) => w.workerId === client.clientId)?.running?.jobDir ?? '';
  }

  /** An owner asks for a worker for tasks like `task`: placed like the task; granted, rejected, or lost once its worker dies. */
  requestLease(client: LocalClient, m: Extract<ClientMessage, { type: 'requestLease' }>): void {
    const { router, clients, scheduler, leased } = this.deps;
    const holder = client.clientId;
    const { leaseId } = m;
    const lost = (failure: TaskFailure) => clients.send(holder, { type: 'leaseLost', leaseId, failure });
    router.route({
      spec: m.task, jobDir: this.jobDirOf(client), queuedAt: Date.now(),
      deliver: (outcome: TaskOutcome) => lost(outcome.failure ?? { type: 'WORKER_DIED', message: 'the lease ended without a failure' }),
      lease: {
        holder, leaseId,
        granted: (worker, jobDir) => {
          const socketPath = leased.socketPath(worker.workerId);
          worker.send({ type: 'leased', socketPath, countsPath: leased.countsPath(worker.workerId) });
          const sent = clients.send(holder, { type: 'leaseGranted', leaseId, workerId: worker.workerId, pid: worker.pid, socketPath, jobDir, gpuIds: worker.gpus?.ids ?? [] });
          // The holder left while its request waited (not dropped with it, being in the env gate then): the worker goes back.
          if (!sent) queueMicrotask(() => scheduler.returnLease(holder, leaseId));
        },
        rejected: (reason) => { clients.send(holder, { type: 'leaseRejected', leaseId, reason }); },
      },
    });
  }

  returnLease(client: LocalClient, m: Extract<ClientMessage, { type: 'returnLease' }>): void {
    this.deps.scheduler.returnLease(client.clientId, m.leaseId, m.kill);
  }

  leaseBacklog(client: LocalClient, m: Extract<ClientMessage, { type: 'leaseBacklog' }>): void {
    this.deps.scheduler.reportBacklog(client.clientId, m.key, m.resources, m.size);
  }

  taskDone(client: LocalClient, outcome: TaskOutcome): void {
    this.deps.logger.debug('task done', { taskId: outcome.taskId, worker: client.clientId, failed: outcome.failure?.type });
    if (this.deps.actors.isActorWorker(client.clientId)) this.deps.actors.onCallDone(outcome);
    else this.deps.scheduler.onTaskDone(client.clientId, outcome);
  }

  actorCreated(client: LocalClient, m: Extract<ClientMessage, { type: 'actorCreated' }>): void {
    this.deps.actors.onCreated(client.clientId, m.failure);
  }

  /** A call to an actor: run by the actor here, or sent to the raylet of the actor's node. */
  actorCall(client: LocalClient, m: Extract<ClientMessage, { type: 'actorCall' }>): void {
    const { actors, router, actorHosts, clients, nodeId } = this.deps;
    const deliver = (outcome: TaskOutcome) => clients.send(client.clientId, { type: 'taskResult', outcome: { ...outcome, nodeId: outcome.nodeId || m.nodeId } });
    if (m.nodeId === nodeId) { void actors.push(m.task.actorId!, m.task).then(deliver); return; }
    const address = router.addressOf(m.nodeId);
    const failed = (message: string, notDelivered = false) => deliver({
      taskId: m.task.taskId, attempt: m.task.attempt, returnId: m.task.returnId, nodeId: m.nodeId, failure: { type: 'WORKER_DIED', message, ...(notDelivered ? { notDelivered } : {}) },
    });
    if (!address) { failed(`the actor's node ${m.nodeId} is not alive`, true); return; }
    actorHosts.get(address).pushActorTask(m.task.actorId!, m.workerId, specToProto(m.task))
      .then((o) => deliver(outcomeFromProto(o)), (err: Error) => failed(`the actor's node ${m.nodeId} did not answer: ${err.message}`));
  }

  returnTasks(client: LocalClient, taskIds: string[]): void {
    this.deps.scheduler.onTasksReturned(client.clientId, taskIds);
  }

  cancel(_client: LocalClient, taskId: string, force: boolean): void {
    if (!this.deps.gate.cancel(taskId) && !this.deps.scheduler.cancel(taskId, force)) this.deps.router.cancelUnplaced(taskId);
  }

  blocked(client: LocalClient, blocked: boolean): void {
    if (blocked) this.deps.scheduler.onBlocked(client.clientId);
    else this.deps.scheduler.onUnblocked(client.clientId);
  }

  /** Task output for the job's drivers: here, or on the driver's node. */
  logs(_client: LocalClient, m: Extract<ClientMessage, { type: 'logs' }>): void {
    if (m.driverNodeId === this.deps.nodeId || !m.driverNodeId) {
      this.deps.clients.toDrivers(m.jobId, m);
      return;
    }
    const address = this.deps.router.addressOf(m.driverNodeId);
    if (address) void this.deps.raylets.get(address).publishLogs(m.jobId, m.prefix, m.stream, m.text).catch(() => undefined);
  }

  request(client: LocalClient, m: LocalRequest): void {
    const { actors, nodeId, nodeIp, resources } = this.deps;
    if (m.type === 'nodeInfo') {
      client.conn.send({ type: 'reply', reqId: m.reqId, ok: true, info: { nodeId, nodeIp, resources } });
    } else if (m.type === 'reserveActor') {
      // The local protocol carries the spec in the shape the creator would send the head; what the
      // creation reads of it (args, resources, ids) is the same in both shapes.
      const spec = { ...(m.spec as ActorSpecMsgOutput), ownerClientId: client.clientId };
      // Only in an env ready here now; one being prepared answers no (the head's CreateActor waits for it).
      const env = this.deps.envs.forJob(spec.jobId);
      const started = env instanceof Promise ? (env.catch(() => undefined), undefined) : actors.reserveForOwner(spec, m.classDescriptor, env);
      client.conn.send({ type: 'reply', reqId: m.reqId, ok: !!started, info: started });
    } else if (m.type === 'releaseActor') {
      actors.release(m.actorId, 'its creator could not register it with the head');
      client.conn.send({ type: 'reply', reqId: m.reqId, ok: true });
    } else {
      void this.deps.objectRequests.handle(client, m);
    }
  }
}
