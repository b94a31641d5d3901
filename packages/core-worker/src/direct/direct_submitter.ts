/**
 * The owner's direct task transport (Ray's NormalTaskSubmitter): instead of sending each task to the
 * raylet, which sends it to a worker and the outcome back (two hops each way), the owner leases a
 * worker from its raylet and pushes tasks to the worker's socket itself; outcomes come straight back.
 * The raylet stays the authority over resources, placement and workers: it grants a lease (holding
 * the task's resources on one worker) or declines it, and says when a leased worker died.
 *
 * Per scheduling key (scheduling_keys.ts): tasks wait in a queue; each open lease runs one at a time,
 * or, once the function is known to be short and never to block, up to the pipeline depth behind the
 * running one (so the worker never waits a round trip for its next task). While tasks wait, up to
 * `requestsPerKey` leases are asked for; once the queue is empty, requests not granted are withdrawn,
 * and a lease with nothing to run is given back after `idleMs`.
 *
 * Everything else goes through the raylet as before (TaskManager cannot tell): tasks with another
 * strategy or a placement group, and every task of a key for `rejectedRelayMs` after the raylet
 * declined a lease for it (placement chose another node: the raylet forwards and spills them).
 *
 * A leased worker that dies fails the tasks it had with the raylet's reason (WORKER_DIED, with the
 * memory monitor's OutOfMemoryError) once its connection has closed, so an outcome it sent before it
 * died still counts. TaskManager retries them as it retries relayed ones.
 */
import { Fifo, FunctionStats, type PipelineLimits } from '@rayts/common';
import { newTaskId } from '../ids.js';
import { packRun, parseRun } from '../protocol/messages.js';
import type {
  CancelTask, Execute, LeaseBacklog, LeaseGranted, LeaseLost, LeaseRejected, LeaseWorkerMessage, RequestLease, ReturnLease, SubmitTask, TaskFailure, TaskOutcome, TaskSpec,
} from '../protocol/messages.js';
import { SchedulingKeys } from './scheduling_keys.js';
import { BacklogReporter } from './backlog_reporter.js';

/** An owner's connection to a leased worker's socket. */
export interface LeaseChannel {
  send(message: Execute): void;
  close(): void;
}

export interface LeaseChannelEvents {
  message(message: LeaseWorkerMessage): void;
  closed(): void;
}

export interface DirectLimits {
  pipeline: PipelineLimits;
  idleMs: number;
  requestsPerKey: number;
  rejectedRelayMs: number;
}

export interface DirectSubmitterDeps {
  raylet: { send(message: SubmitTask | CancelTask | RequestLease | ReturnLease | LeaseBacklog): void };
  /** Connects to a leased worker's socket (it may only just have been told to listen). */
  dial(socketPath: string, events: LeaseChannelEvents): Promise<LeaseChannel>;
  /** Where outcomes go (TaskManager.handleOutcome), those of pushed tasks and the failures made here. */
  outcomes: { handleOutcome(outcome: TaskOutcome): void };
  /** This node (outcomes made here for a dead leased worker name it). */
  nodeId: string;
  limits: DirectLimits;
}

/** The tasks of one scheduling key. */
interface KeyState {
  readonly key: string;
  readonly fnHash: string;
  readonly resources: TaskSpec['resources'];
  /** Tasks waiting for a leased worker, in submission order (handed-back ones go to the front). */
  readonly queue: Fifo<TaskSpec>;
  /** Granted leases that take tasks (connecting or open). */
  readonly leases: Set<Lease>;
  /** Requests the raylet has not answered yet. */
  readonly requests: Set<Lease>;
  /** Until then (performance.now()), tasks of the key go through the raylet. */
  relayUntil: number;
}

/**
 * - `requested`: asked for, not granted yet.
 * - `connecting`: granted; the worker's socket is being dialled.
 * - `open`: tasks go to the worker.
 * - `killing`: the raylet was asked to kill the worker (its connection broke, or a task on it was
 *   cancelled with force); its leaseLost follows.
 * - `lost`: the raylet said the worker died; its tasks fail once the connection has closed too.
 * - `returned`: given back idle; nothing refers to it any more.
 */
type LeaseState =
  | { kind: 'requested' }
  | { kind: 'connecting' }
  | { kind: 'open'; channel: LeaseChannel }
  | { kind: 'killing'; channel?: LeaseChannel }
  | { kind: 'lost'; failure: TaskFailure; fallback: NodeJS.Timeout }
  | { kind: 'returned' };

interface Lease {
  readonly id: number;
  readonly key: KeyState;
  state: LeaseState;
  workerId: string;
  pid: number;
  jobDir: string;
  gpuIds: number[] | undefined;
  /** Tasks pushed and not answered, by task id, in push order. */
  readonly inFlight: Map<string, TaskSpec>;
  /** Its running task waits in get (it handed back the rest): nothing more goes to it until that task ends. */
  blocked: boolean;
  /** When it ran out of tasks (performance.now()); 0 while it has some. */
  idleSince: number;
  idleTimer?: NodeJS.Timeout;
  channelClosed: boolean;
  /**
   * The task pushed when nothing else was in flight ('' when none is out), and when: its round trip
   * times its run when the outcome carries no run times (task events turned off).
   */
  soloTaskId: string;
  soloSentAt: number;
}

/** How long a dead worker's connection may stay open before its tasks are failed anyway. */
const LOST_CLOSE_WAIT_MS = 1000;

export class DirectTaskSubmitter {
  private readonly keys = new Map<string, KeyState>();
  private readonly leases = new Map<number, Lease>();
  private readonly schedulingKeys = new SchedulingKeys();
  private readonly stats: FunctionStats;
  private readonly run = new Float64Array(8);
  private nextLeaseId = 1;
  private closed = false;
  private readonly backlog: BacklogReporter;

  constructor(private readonly deps: DirectSubmitterDeps) {
    this.stats = new FunctionStats(deps.limits.pipeline);
    this.backlog = new BacklogReporter((m) => deps.raylet.send(m));
  }

  /** TaskManager's transport: a task goes to a leased worker when it can, else to the raylet. */
  send(message: SubmitTask | CancelTask): void {
    if (message.type === 'cancel') {
      this.cancel(message);
      return;
    }
    const key = this.closed ? undefined : this.keyFor(message.task);
    if (!key || (key.relayUntil > 0 && performance.now() < key.relayUntil)) {
      this.deps.raylet.send(message);
      return;
    }
    key.queue.push(message.task);
    this.pump(key);
  }

  leaseGranted(m: LeaseGranted): void {
    const lease = this.leases.get(m.leaseId);
    if (!lease || lease.state.kind !== 'requested' || this.closed) {
      // Withdrawn while the raylet granted it: it goes back.
      this.deps.raylet.send({ type: 'returnLease', leaseId: m.leaseId });
      return;
    }
    const { key } = lease;
    key.requests.delete(lease);
    key.leases.add(lease);
    Object.assign(lease, { workerId: m.workerId, pid: m.pid, jobDir: m.jobDir, gpuIds: m.gpuIds.length > 0 ? m.gpuIds : undefined, channelClosed: false });
    lease.state = { kind: 'connecting' };
    this.deps.dial(m.socketPath, { message: (msg) => this.onWorkerMessage(lease, msg), closed: () => this.onChannelClosed(lease) }).then((channel) => {
      if (lease.state.kind !== 'connecting') {
        if (lease.state.kind === 'killing') lease.state.channel = channel;
        else channel.close();
        return;
      }
      lease.state = { kind: 'open', channel };
      this.pump(key);
    }, (err: Error) => {
      lease.channelClosed = true;
      if (lease.state.kind === 'connecting') this.kill(lease, `its owner could not connect to it: ${err.message}`);
      else if (lease.state.kind === 'lost') this.settleLost(lease);
    });
  }

  leaseRejected(m: LeaseRejected): void {
    const lease = this.leases.get(m.leaseId);
    if (!lease || lease.state.kind !== 'requested') return;
    this.forget(lease);
    this.relay(lease.key);
  }

  leaseLost(m: LeaseLost): void {
    const lease = this.leases.get(m.leaseId);
    if (!lease) return;
    if (lease.state.kind === 'requested') {
      // Never granted (its job's env failed on this node, say): the raylet reports why for each task.
      this.forget(lease);
      this.relay(lease.key);
      return;
    }
    if (lease.state.kind === 'lost') return;
    lease.key.leases.delete(lease);
    const fallback = setTimeout(() => this.settleLost(lease), LOST_CLOSE_WAIT_MS);
    fallback.unref();
    lease.state = { kind: 'lost', failure: m.failure, fallback };
    if (lease.channelClosed) this.settleLost(lease);
  }

  /** The owner shuts down: leases go back (a worker still running tasks of this owner is killed), requests are withdrawn. */
  close(): void {
    this.closed = true;
    this.backlog.close();
    for (const lease of this.leases.values()) {
      clearTimeout(lease.idleTimer);
      if (lease.state.kind === 'lost') clearTimeout(lease.state.fallback);
      const busy = lease.inFlight.size > 0 && lease.state.kind !== 'requested';
      this.deps.raylet.send({ type: 'returnLease', leaseId: lease.id, ...(busy ? { kill: 'its owner shut down while tasks of it ran there' } : {}) });
      if (lease.state.kind === 'open' || (lease.state.kind === 'killing' && lease.state.channel)) lease.state.channel!.close();
    }
    this.leases.clear();
    this.keys.clear();
  }

  private keyFor(spec: TaskSpec): KeyState | undefined {
    const key = this.schedulingKeys.keyOf(spec);
    if (key === undefined) return undefined;
    let state = this.keys.get(key);
    if (!state) {
      state = { key, fnHash: spec.fnHash, resources: spec.resources, queue: new Fifo<TaskSpec>(), leases: new Set(), requests: new Set(), relayUntil: 0 };
      this.keys.set(key, state);
    }
    return state;
  }

  /** Pushes waiting tasks to open leases, asks for more leases while tasks wait, and lets idle ones go. */
  private pump(key: KeyState): void {
    const perLease = this.stats.pipelinable(key.fnHash) ? this.deps.limits.pipeline.depth + 1 : 1;
    for (const lease of key.leases) {
      if (key.queue.length === 0) break;
      if (lease.state.kind !== 'open' || lease.blocked) continue;
      while (key.queue.length > 0 && lease.inFlight.size < perLease) this.push(lease, lease.state.channel, key.queue.shift()!);
    }
    if (key.queue.length > 0) {
      const wanted = Math.min(key.queue.length, this.deps.limits.requestsPerKey) - key.requests.size;
      for (let i = 0; i < wanted; i++) this.request(key, key.queue.peek()!);
      this.backlog.update(key);
      return;
    }
    for (const lease of key.requests) this.withdraw(lease);
    for (const lease of key.leases) if (lease.inFlight.size === 0) this.idle(lease);
    this.backlog.update(key);
    if (key.leases.size === 0 && key.requests.size === 0 && key.relayUntil < performance.now() && !this.backlog.outstanding(key)) this.keys.delete(key.key);
  }

  private push(lease: Lease, channel: LeaseChannel, spec: TaskSpec): void {
    if (lease.inFlight.size === 0) {
      lease.soloTaskId = spec.taskId;
      lease.soloSentAt = performance.now();
    }
    lease.inFlight.set(spec.taskId, spec);
    lease.idleSince = 0;
    channel.send({ type: 'execute', task: spec, jobDir: lease.jobDir, gpuIds: lease.gpuIds });
  }

  private request(key: KeyState, like: TaskSpec): void {
    const lease: Lease = {
      id: this.nextLeaseId++, key, state: { kind: 'requested' }, workerId: '', pid: 0, jobDir: '', gpuIds: undefined,
      inFlight: new Map(), blocked: false, idleSince: 0, channelClosed: true, soloTaskId: '', soloSentAt: 0,
    };
    this.leases.set(lease.id, lease);
    key.requests.add(lease);
    // The request is placed like a task of the key (its own task id: a cancel of a task never matches it).
    this.deps.raylet.send({ type: 'requestLease', leaseId: lease.id, task: { ...like, taskId: newTaskId(), args: [] } });
  }

  private withdraw(lease: Lease): void {
    this.forget(lease);
    this.deps.raylet.send({ type: 'returnLease', leaseId: lease.id });
  }

  /** A request answered or withdrawn: no longer tracked. */
  private forget(lease: Lease): void {
    lease.key.requests.delete(lease);
    this.leases.delete(lease.id);
  }

  /** The raylet declined: the key's tasks go through it for a while, and its other requests are withdrawn. */
  private relay(key: KeyState): void {
    key.relayUntil = performance.now() + this.deps.limits.rejectedRelayMs;
    for (const lease of key.requests) this.withdraw(lease);
    for (const task of key.queue.removeWhere(() => true)) this.deps.raylet.send({ type: 'submit', task });
    this.backlog.update(key);
  }

  /** Gives the lease back once it has had nothing to run for idleMs (a task pushed meanwhile keeps it). */
  private idle(lease: Lease): void {
    if (lease.idleSince === 0) lease.idleSince = performance.now();
    if (lease.idleTimer) return;
    const check = () => {
      lease.idleTimer = undefined;
      if (lease.state.kind !== 'open' || lease.inFlight.size > 0) return;
      const left = lease.idleSince + this.deps.limits.idleMs - performance.now();
      if (left > 0) {
        lease.idleTimer = setTimeout(check, left);
        lease.idleTimer.unref();
        return;
      }
      lease.state.channel.close();
      lease.state = { kind: 'returned' };
      lease.key.leases.delete(lease);
      this.leases.delete(lease.id);
      this.deps.raylet.send({ type: 'returnLease', leaseId: lease.id });
      this.pump(lease.key);
    };
    lease.idleTimer = setTimeout(check, this.deps.limits.idleMs);
    lease.idleTimer.unref();
  }

  private onWorkerMessage(lease: Lease, m: LeaseWorkerMessage): void {
    if (m.type === 'taskResult') {
      const spec = lease.inFlight.get(m.outcome.taskId);
      if (!spec) return;
      lease.inFlight.delete(spec.taskId);
      if (lease.inFlight.size === 0) lease.blocked = false;
      this.recordRun(lease, spec, m.outcome);
      this.deps.outcomes.handleOutcome(m.outcome);
    } else {
      // Its running task blocked in get: what waited behind it runs elsewhere.
      lease.blocked = true;
      this.stats.recordBlocked(lease.key.fnHash);
      const back: TaskSpec[] = [];
      for (const id of m.taskIds) {
        const spec = lease.inFlight.get(id);
        if (!spec) continue;
        lease.inFlight.delete(id);
        back.push(spec);
      }
      if (this.closed) return;
      for (let i = back.length - 1; i >= 0; i--) lease.key.queue.unshift(back[i]!);
    }
    if (!this.closed) this.pump(lease.key);
  }

  /** How long the task ran, for pipelining: from its run times, else its round trip when it went out alone. */
  private recordRun(lease: Lease, spec: TaskSpec, outcome: TaskOutcome): void {
    const solo = lease.soloTaskId === spec.taskId;
    if (solo) lease.soloTaskId = '';
    if (outcome.run && parseRun(outcome.run, this.run) !== undefined && this.run[2]! > 0 && this.run[3]! >= this.run[2]!) {
      this.stats.recordRun(spec.fnHash, this.run[3]! - this.run[2]!);
    } else if (solo) {
      this.stats.recordRun(spec.fnHash, performance.now() - lease.soloSentAt);
    }
  }

  private onChannelClosed(lease: Lease): void {
    lease.channelClosed = true;
    const { state } = lease;
    if (state.kind === 'open' || state.kind === 'connecting') this.kill(lease, 'its owner\'s connection to it closed');
    else if (state.kind === 'lost') this.settleLost(lease);
  }

  /** Asks the raylet to kill the leased worker; its leaseLost fails what ran there. */
  private kill(lease: Lease, reason: string): void {
    lease.key.leases.delete(lease);
    lease.state = { kind: 'killing', channel: lease.state.kind === 'open' ? lease.state.channel : undefined };
    this.deps.raylet.send({ type: 'returnLease', leaseId: lease.id, kill: reason });
  }

  /** The leased worker is dead and its connection closed: its tasks fail with the raylet's reason (TaskManager retries them). */
  private settleLost(lease: Lease): void {
    if (lease.state.kind !== 'lost' || !this.leases.has(lease.id)) return;
    clearTimeout(lease.state.fallback);
    clearTimeout(lease.idleTimer);
    const { failure } = lease.state;
    this.leases.delete(lease.id);
    const run = packRun({ workerId: lease.workerId, workerPid: lease.pid });
    const tasks = [...lease.inFlight.values()];
    lease.inFlight.clear();
    for (const spec of tasks) {
      this.deps.outcomes.handleOutcome({ taskId: spec.taskId, attempt: spec.attempt, returnId: spec.returnId, nodeId: this.deps.nodeId, failure: { ...failure }, run });
    }
    this.pump(lease.key);
  }

  /** Cancels a task waiting here (answered CANCELLED at once) or running on a leased worker (killed with force); else the raylet's. */
  private cancel(m: CancelTask): void {
    for (const key of this.keys.values()) {
      const [spec] = key.queue.length > 0 ? key.queue.removeWhere((s) => s.taskId === m.taskId) : [];
      if (!spec) continue;
      this.deps.outcomes.handleOutcome({ taskId: spec.taskId, attempt: spec.attempt, returnId: spec.returnId, nodeId: '', failure: { type: 'CANCELLED', message: 'cancelled before it ran' } });
      return;
    }
    for (const lease of this.leases.values()) {
      if (!lease.inFlight.has(m.taskId)) continue;
      if (m.force && (lease.state.kind === 'open' || lease.state.kind === 'connecting')) this.kill(lease, `task ${m.taskId} was cancelled with force`);
      return;
    }
    this.deps.raylet.send(m);
  }
}
