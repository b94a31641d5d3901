/**
 * The head's actor manager: the actor table with Ray's states, placement of each
 * actor on a node (the hybrid/SPREAD/affinity policy, preferring the owner's node), creation through
 * that node's raylet, restarts after a worker or node death within `maxRestarts`, and death with the
 * owner for non-detached actors. Every change is written to SQLite before anyone hears of it (and
 * before the record in memory changes), so a restarted head knows every actor; running actors keep
 * serving calls meanwhile (callers talk to them directly). The changes the head makes by itself (a
 * worker's or node's death, a creation's answer, a placement decision) go through DeferredWrites: on
 * a full state disk they are made once there is room again.
 */
import {
  ClusterPlacement, VersionWaiters, formatAddress, strategyFromMsg, toResourceMap, type ActorHostClient, type ActorInfoMsg, type ActorSpecMsgOutput,
  type Logger, type ResourceDemand__Output, type ViewNode,
} from '@rayts/common';
import { NameTakenError } from './errors.js';
import type { NodeManager } from './node_manager.js';
import type { JobTable } from './job_table.js';
import type { ActorDeathCause, ActorRecord, ActorTable } from './storage/actor_table.js';
import type { DeferredWrites } from './storage/deferred_writes.js';

type CreateReply = Awaited<ReturnType<ActorHostClient['createActor']>>;
const NO_ADDRESS = { nodeId: '', nodeIp: '', rayletPort: 0, workerId: '', pid: 0, socketPath: '' } as const;

/** The actor-host clients of the raylets, by address (a `ClientPool<ActorHostClient>` in the head). */
export interface ActorHosts {
  get(address: string): Pick<ActorHostClient, 'createActor' | 'killActorWorker'>;
}

export interface ActorManagerOptions {
  scheduleRetryMs: number;
  spreadThreshold: number;
  /** The class's entry in the function table (attached to creations so workers need not fetch it). */
  classDescriptor: (hash: string) => Buffer | undefined;
}

export class ActorManager {
  private readonly actors = new Map<string, ActorRecord>();
  private readonly waiters = new VersionWaiters();
  /** Actors waiting for a node that can host them (infeasible for now). */
  private readonly unplaced = new Set<string>();
  /** Creation calls in flight, by actor: the attempt they belong to (a stale reply is ignored). */
  private readonly creating = new Map<string, number>();
  private readonly placement: ClusterPlacement;
  private retryTimer?: NodeJS.Timeout;
  private attempts = 0;

  constructor(
    private readonly table: ActorTable,
    private readonly nodes: NodeManager,
    private readonly jobs: JobTable,
    private readonly hosts: ActorHosts,
    private readonly logger: Logger,
    private readonly writes: DeferredWrites,
    private readonly options: ActorManagerOptions,
  ) {
    this.placement = new ClusterPlacement('', options.spreadThreshold);
    for (const record of table.load()) this.actors.set(record.spec.actorId, record);
    nodes.on('nodeDead', (node) => this.onNodeDead(node.nodeId, node.deathReason));
    nodes.on('nodeAdded', () => this.retryUnplaced());
  }

  /** After a head restart: actors that were being placed are placed again once nodes re-register. */
  start(): void {
    for (const a of this.actors.values()) {
      if (a.state === 'PENDING_CREATION' || a.state === 'RESTARTING') this.unplaced.add(a.spec.actorId);
    }
    this.armRetry();
  }

  stop(): void {
    clearTimeout(this.retryTimer);
    this.waiters.wakeAll();
  }

  register(spec: ActorSpecMsgOutput): ActorRecord {
    const existing = this.actors.get(spec.actorId);
    if (existing) return existing; // a retried registration
    if (spec.name) {
      const taken = this.named(spec.name, spec.namespace);
      if (taken) {
        throw new NameTakenError(`an actor named '${spec.name}' already exists in namespace '${spec.namespace}' `
          + `(actor ${taken.spec.actorId}, ${taken.state}): pick another name, or get that one with getActor('${spec.name}', { namespace: '${spec.namespace}' })`);
      }
    }
    const record: ActorRecord = {
      spec, state: 'PENDING_CREATION', version: 1, nodeId: '', nodeIp: '', rayletPort: 0, workerId: '', pid: 0, socketPath: '',
      numRestarts: 0, deathCause: '', deathMessage: '', startTimeMs: Date.now(), endTimeMs: 0, pendingReason: '',
    };
    this.table.save(record);
    this.actors.set(spec.actorId, record);
    this.logger.info('actor registered', { actorId: spec.actorId, className: spec.className, name: spec.name, jobId: spec.jobId });
    if (!spec.detached && !this.jobs.isRunning(spec.jobId)) {
      this.writes.run(`that actor ${spec.actorId} is DEAD (OWNER_DIED)`, () => {
        if (record.state !== 'DEAD') this.markDead(record, 'OWNER_DIED', `its owner, job ${spec.jobId}, is not running`);
      });
    } else {
      this.schedule(record);
    }
    return record;
  }

  get(actorId: string): ActorRecord | undefined {
    return this.actors.get(actorId);
  }

  named(name: string, namespace: string): ActorRecord | undefined {
    for (const a of this.actors.values()) if (a.state !== 'DEAD' && a.spec.name === name && a.spec.namespace === namespace) return a;
    return undefined;
  }

  list(includeDead: boolean): ActorRecord[] {
    return [...this.actors.values()].filter((a) => includeDead || a.state !== 'DEAD');
  }

  /** Resolves with the record once its version passes `minVersion`, or after `waitMs`. */
  async waitNewer(actorId: string, minVersion: number, waitMs: number): Promise<ActorRecord | undefined> {
    const current = this.actors.get(actorId);
    if (!current || current.version > minVersion || waitMs <= 0) return current;
    await this.waiters.wait(actorId, waitMs);
    return this.actors.get(actorId);
  }

  /** `ray.kill`: with noRestart the actor is DEAD at once; otherwise its process dies and the restart rules apply. */
  kill(actorId: string, noRestart: boolean): ActorRecord | undefined {
    const a = this.actors.get(actorId);
    if (!a || a.state === 'DEAD') return a;
    const where = { nodeId: a.nodeId, rayletPort: a.rayletPort, nodeIp: a.nodeIp };
    if (noRestart) this.markDead(a, 'KILLED', 'it was killed by ray.kill()');
    if (where.nodeId) this.killWorker(where, actorId, 'killed by ray.kill()');
    return a;
  }

  /** A raylet saw the actor's worker exit. */
  onWorkerDied(actorId: string, workerId: string, reason: string): void {
    const a = this.actors.get(actorId);
    if (!a || a.state !== 'ALIVE' || a.workerId !== workerId) return;
    this.onDeath(a, 'WORKER_DIED', reason);
  }

  /** Jobs whose driver is gone: their non-detached actors die with them (Ray: fate-sharing with the owner). */
  onJobFinished(jobId: string): void {
    for (const a of this.actors.values()) {
      if (a.spec.jobId !== jobId || a.spec.detached || a.state === 'DEAD') continue;
      const where = { nodeId: a.nodeId, rayletPort: a.rayletPort, nodeIp: a.nodeIp };
      this.markDead(a, 'OWNER_DIED', `its owner, job ${jobId}, exited`);
      if (where.nodeId) this.killWorker(where, a.spec.actorId, `its owner, job ${jobId}, exited`);
    }
  }

  /**
   * A node (re-)registered with the actors and jobs it runs now: what the table says runs there but
   * the node does not have ended while the head could not hear of it.
   */
  reconcileNode(nodeId: string, liveActorIds: string[], liveJobIds: string[]): void {
    const liveActors = new Set(liveActorIds);
    for (const a of [...this.actors.values()]) {
      if (a.state === 'ALIVE' && a.nodeId === nodeId && !liveActors.has(a.spec.actorId)) {
        this.onDeath(a, 'WORKER_DIED', 'its worker exited while the head was out of contact with its node');
      }
    }
    // Workers of actors the head holds dead (killed while it could not reach the node) must go.
    const live = this.nodes.get(nodeId);
    for (const actorId of liveActorIds) {
      const a = this.actors.get(actorId);
      if (live && !this.creating.has(actorId) && (!a || a.state === 'DEAD' || a.nodeId !== nodeId)) {
        this.killWorker({ nodeId, nodeIp: live.record.nodeIp, rayletPort: live.record.rayletPort }, actorId, 'the head holds this actor dead');
      }
    }
    const liveJobs = new Set(liveJobIds);
    for (const jobId of this.jobs.runningOnNode(nodeId)) {
      if (liveJobs.has(jobId)) continue;
      this.endJob(jobId);
      this.logger.info('job ended while the head was out of contact', { jobId, nodeId });
    }
  }

  /**
   * The job's non-detached actors die with it, then the job is recorded finished: in that order, so
   * that after a full disk stopped it halfway the job still runs and the next try finishes it.
   */
  private endJob(jobId: string): void {
    this.onJobFinished(jobId);
    this.jobs.markFinished(jobId);
  }

  private onNodeDead(nodeId: string, reason: string): void {
    for (const a of [...this.actors.values()]) {
      if (a.state !== 'ALIVE' || a.nodeId !== nodeId) continue;
      this.writes.run(`that actor ${a.spec.actorId} lost its node ${nodeId}`, () => {
        if (a.state === 'ALIVE' && a.nodeId === nodeId) this.onDeath(a, 'NODE_DIED', `its node ${nodeId} died: ${reason}`);
      });
    }
    // Drivers on a dead node are gone too.
    for (const jobId of this.jobs.runningOnNode(nodeId)) {
      this.writes.run(`that job ${jobId} ended with its node ${nodeId}`, () => this.endJob(jobId));
    }
  }

  private onDeath(a: ActorRecord, cause: ActorDeathCause, message: string): void {
    const max = a.spec.maxRestarts;
    const ownerGone = !a.spec.detached && !this.jobs.isRunning(a.spec.jobId);
    if (!ownerGone && (max < 0 || a.numRestarts < max)) {
      this.update(a, { ...NO_ADDRESS, numRestarts: a.numRestarts + 1 }, 'RESTARTING');
      this.logger.warn('actor died, restarting it', { actorId: a.spec.actorId, cause, message, restart: a.numRestarts });
      this.schedule(a);
      return;
    }
    const why = ownerGone ? `${message}; its owner, job ${a.spec.jobId}, is gone` : max === 0 ? `${message} (maxRestarts is 0)`
      : `${message}, and it was restarted ${a.numRestarts} times already (maxRestarts ${max})`;
    this.markDead(a, cause, why);
  }

  private markDead(a: ActorRecord, cause: ActorDeathCause, message: string, creationFailure?: ActorRecord['creationFailure']): void {
    this.update(a, { ...NO_ADDRESS, deathCause: cause, deathMessage: message, endTimeMs: Date.now(), ...(creationFailure && { creationFailure }) }, 'DEAD');
    this.unplaced.delete(a.spec.actorId);
    this.creating.delete(a.spec.actorId);
    this.logger.info('actor is dead', { actorId: a.spec.actorId, cause, message });
  }

  /** Writes the record with `change` (throws StateDiskFullError on a full disk), and only then changes it in memory. */
  private update(a: ActorRecord, change: Partial<ActorRecord>, state: ActorRecord['state'] = a.state): void {
    const next: ActorRecord = { ...a, ...change, state, version: a.version + 1 };
    this.table.save(next);
    Object.assign(a, next);
    this.waiters.wake(a.spec.actorId);
  }

  private view(): ViewNode[] {
    return this.nodes.alive().map((n) => ({
      nodeId: n.record.nodeId, address: formatAddress(n.record.nodeIp, n.record.rayletPort), total: n.total, available: n.available,
    }));
  }

  /** Places the actor and asks that node's raylet to create it. */
  private schedule(a: ActorRecord): void {
    const view = this.view();
    if (view.length === 0) return this.waitForNode(a, 'no node is alive');
    const shape = toResourceMap(a.spec.placementResources);
    const strategy = strategyFromMsg(a.spec.strategy);
    const preferred = view.find((n) => n.nodeId === a.spec.ownerNodeId) ?? view[0]!;
    // The creator's raylet already started it (first attempt only): the creation there is joined.
    const reserved = a.spec.reservedNodeId ? view.find((n) => n.nodeId === a.spec.reservedNodeId) : undefined;
    a.spec.reservedNodeId = '';
    const decision = reserved ? { kind: 'remote' as const, node: reserved } : this.placement.decide(shape, strategy, preferred, view);
    if (decision.kind === 'infeasible') return this.waitForNode(a, `no node has ${JSON.stringify(shape)}`);
    if (decision.kind === 'unschedulable') {
      this.writes.run(`that actor ${a.spec.actorId} is DEAD (UNSCHEDULABLE)`, () => { if (a.state !== 'DEAD') this.markDead(a, 'UNSCHEDULABLE', decision.reason); });
      return;
    }
    const node = decision.kind === 'local' ? preferred : decision.node;
    // Count it against the node until its next report, so a burst of actors spreads.
    for (const [k, v] of Object.entries(shape)) node.available[k] = (node.available[k] ?? 0) - v;
    this.unplaced.delete(a.spec.actorId);
    if (a.pendingReason) a.pendingReason = '';
    void this.create(a, node);
  }

  private waitForNode(a: ActorRecord, reason: string): void {
    const actorId = a.spec.actorId;
    this.unplaced.add(actorId);
    this.armRetry();
    if (a.pendingReason === reason) return;
    this.writes.run(`why actor ${actorId} waits`, () => {
      if (!this.unplaced.has(actorId) || a.pendingReason === reason) return;
      this.update(a, { pendingReason: reason });
      this.logger.info('actor waits for a node', { actorId, reason });
    });
  }

  private armRetry(): void {
    if (this.retryTimer || this.unplaced.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryUnplaced();
    }, this.options.scheduleRetryMs);
    this.retryTimer.unref();
  }

  private retryUnplaced(): void {
    for (const id of [...this.unplaced]) {
      const a = this.actors.get(id);
      this.unplaced.delete(id);
      if (a && (a.state === 'PENDING_CREATION' || a.state === 'RESTARTING') && !this.creating.has(id)) this.schedule(a);
    }
    this.armRetry();
  }

  private async create(a: ActorRecord, node: ViewNode): Promise<void> {
    const attempt = ++this.attempts;
    const actorId = a.spec.actorId;
    this.creating.set(actorId, attempt);
    let reply;
    try {
      reply = await this.hosts.get(node.address).createActor(a.spec, a.numRestarts, this.options.classDescriptor(a.spec.classHash));
    } catch (err) {
      if (this.creating.get(actorId) !== attempt) return;
      this.creating.delete(actorId);
      this.logger.warn('actor creation call failed; placing it again', { actorId, nodeId: node.nodeId, error: (err as Error).message });
      return this.waitForNode(a, `creating it on node ${node.nodeId} failed: ${(err as Error).message}`);
    }
    if (this.creating.get(actorId) !== attempt) {
      // Killed (or its owner left) while it was being created: the new worker must not live on.
      if (reply.ok) this.killWorker({ nodeId: node.nodeId, nodeIp: '', rayletPort: 0, address: node.address }, actorId, 'the actor was killed while it was created');
      return;
    }
    this.creating.delete(actorId);
    this.writes.run(`what became of actor ${actorId}'s creation on node ${node.nodeId}`, () => this.created(a, node, reply));
  }

  /** Records the answer to a creation call (again after a full disk: if the actor still waits for it). */
  private created(a: ActorRecord, node: ViewNode, reply: CreateReply): void {
    const actorId = a.spec.actorId;
    if ((a.state !== 'PENDING_CREATION' && a.state !== 'RESTARTING') || this.creating.has(actorId) || this.unplaced.has(actorId)) {
      // Killed (or its owner left) while its answer could not be recorded: the new worker must not live on.
      if (reply.ok && a.state === 'DEAD') this.killWorker({ nodeId: node.nodeId, nodeIp: '', rayletPort: 0, address: node.address }, actorId, 'the actor was killed while it was created');
      return;
    }
    if (!reply.ok && reply.failure?.type === 'WORKER_DIED') {
      // The process died (killed, out of memory) while constructing, or after constructing on its
      // creator's node before this call confirmed it: a worker death, restarted within maxRestarts.
      return this.onDeath(a, 'WORKER_DIED', reply.failure.message);
    }
    if (!reply.ok) {
      return this.markDead(a, 'CREATION_FAILED', `its constructor failed: ${reply.failure?.errorName ?? 'Error'}: ${reply.failure?.message ?? 'unknown error'}`,
        reply.failure ?? undefined);
    }
    const live = this.nodes.get(node.nodeId);
    if (!live) return this.onDeath(a, 'NODE_DIED', `its node ${node.nodeId} died before the actor's start was recorded`);
    this.update(a, {
      nodeId: node.nodeId, nodeIp: live.record.nodeIp, rayletPort: live.record.rayletPort,
      workerId: reply.workerId, pid: reply.pid, socketPath: reply.socketPath, pendingReason: '',
    }, 'ALIVE');
    this.logger.info('actor is alive', { actorId, nodeId: node.nodeId, pid: reply.pid, restarts: a.numRestarts });
  }

  private killWorker(where: { nodeId: string; nodeIp: string; rayletPort: number; address?: string }, actorId: string, reason: string): void {
    const live = this.nodes.get(where.nodeId);
    const address = where.address ?? (live ? formatAddress(live.record.nodeIp, live.record.rayletPort) : undefined);
    if (!address) return;
    void this.hosts.get(address).killActorWorker(actorId, reason)
      .catch((err: Error) => this.logger.warn('could not kill an actor worker', { actorId, nodeId: where.nodeId, error: err.message }));
  }

  /** Actors no node can host yet, for `rayts status` Pending Demands. */
  demands(): ResourceDemand__Output[] {
    const byShape = new Map<string, ResourceDemand__Output>();
    for (const id of this.unplaced) {
      const a = this.actors.get(id);
      if (!a) continue;
      const shape = toResourceMap(a.spec.placementResources);
      const key = JSON.stringify(Object.entries(shape).sort());
      const d = byShape.get(key);
      if (d) d.count += 1;
      else byShape.set(key, { shape, count: 1, kind: 'actor', strategy: '', infeasible: true, bundles: [] });
    }
    return [...byShape.values()];
  }
}

export function actorInfo(a: ActorRecord): ActorInfoMsg {
  const s = a.spec;
  return {
    actorId: s.actorId, state: a.state, version: a.version, className: s.className, name: s.name, namespace: s.namespace,
    methodNames: s.methodNames, maxTaskRetries: s.maxTaskRetries, maxPendingCalls: s.maxPendingCalls, detached: s.detached, jobId: s.jobId,
    nodeId: a.nodeId, nodeIp: a.nodeIp, rayletPort: a.rayletPort, workerId: a.workerId, pid: a.pid, socketPath: a.socketPath,
    numRestarts: a.numRestarts, maxRestarts: s.maxRestarts, deathCause: a.deathCause, deathMessage: a.deathMessage,
    creationFailure: a.creationFailure, startTimeMs: a.startTimeMs, endTimeMs: a.endTimeMs, placementResources: s.placementResources,
    pendingReason: a.pendingReason,
  };
}
