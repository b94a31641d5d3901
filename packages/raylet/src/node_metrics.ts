/**
 * The node's Prometheus metrics (Ray's per-node `ray_*` metrics, named `rayts_*`): the host, the
 * object store, the worker pool, the tasks of this node, and the raylet's gRPC server latency. One
 * registry of its own (never prom-client's global one), every series labelled with the node's id and
 * IP. Nothing is sampled on a timer: the gauges and counters read the raylet's parts when Prometheus
 * scrapes; only the gRPC latency histogram is observed as calls happen.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { GRPC_SERVER_LATENCY_METRIC, RpcLatency } from '@rayts/common';
import type { ObjectStoreStats } from '@rayts/object-store';
import type { HostStats, SpaceUsage } from './host_stats.js';
import type { LocalScheduler, WorkerSlot } from './local_scheduler.js';
import type { TaskRouter } from './task_router.js';
import type { HostedActors } from './hosted_actors.js';
import type { DirectCallCounts } from './direct_call_counts.js';
import type { MemoryMonitor } from './memory/memory_monitor.js';

/** What a worker process is doing, as `rayts_workers{state}` counts them. */
export const WORKER_STATES = ['starting', 'idle', 'busy', 'actor'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

export type StoreStats = Pick<ObjectStoreStats, 'used' | 'capacity' | 'numObjects' | 'numPinned'
  | 'spilledBytesTotal' | 'spilledObjectsTotal' | 'restoredBytesTotal' | 'restoredObjectsTotal'>;

export interface NodeMetricsDeps {
  nodeId: string;
  nodeIp: string;
  host: Pick<HostStats, 'cpuUtilizationPercent' | 'cpuCount' | 'memory' | 'disk'>;
  store: { stats(): StoreStats };
  /** Every worker process of the node (the pool's list), started or still starting. */
  workers: { list(): { workerId: string; connected: boolean }[] };
  scheduler: Pick<LocalScheduler, 'workerList' | 'taskCounts' | 'endedAttempts'>;
  router: Pick<TaskRouter, 'infeasibleCount'>;
  actors: Pick<HostedActors, 'isActorWorker' | 'demands'>;
  actorCalls: Pick<DirectCallCounts, 'totals'>;
  /** Tasks owners pushed to their leased workers. */
  leasedTasks: Pick<DirectCallCounts, 'totals'>;
  memoryMonitor: Pick<MemoryMonitor, 'killCounts'>;
}

/** Classifies the pool's processes: not yet connected, actor-hosting, running a task, or idle. */
export function workerStates(workers: { workerId: string; connected: boolean }[], slots: WorkerSlot[],
  isActorWorker: (workerId: string) => boolean): Record<WorkerState, number> {
  const busy = new Set(slots.filter((s) => s.running).map((s) => s.workerId));
  const counts: Record<WorkerState, number> = { starting: 0, idle: 0, busy: 0, actor: 0 };
  for (const w of workers) {
    if (!w.connected) counts.starting += 1;
    else if (isActorWorker(w.workerId)) counts.actor += 1;
    else if (busy.has(w.workerId)) counts.busy += 1;
    else counts.idle += 1;
  }
  return counts;
}

export class NodeMetrics {
  readonly registry = new Registry();
  /** For the raylet's gRPC server (createServer's `latency`). */
  readonly rpcLatency: RpcLatency;

  constructor(private readonly deps: NodeMetricsDeps) {
    this.registry.setDefaultLabels({ node_id: deps.nodeId, node_ip: deps.nodeIp });
    const registers = [this.registry];
    this.rpcLatency = new RpcLatency(new Histogram({ ...GRPC_SERVER_LATENCY_METRIC, labelNames: [...GRPC_SERVER_LATENCY_METRIC.labelNames], registers }));
    this.hostMetrics(registers);
    this.storeMetrics(registers);
    this.workMetrics(registers);
  }

  /** The text Prometheus scrapes. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private hostMetrics(registers: Registry[]): void {
    const { host } = this.deps;
    this.gauge(registers, 'rayts_node_cpu_utilization_percent', 'Busy share of all CPU cores of the host since the previous scrape, in percent', () => host.cpuUtilizationPercent());
    this.gauge(registers, 'rayts_node_cpus', 'CPU cores of the host', () => host.cpuCount());
    const space = (name: string, what: string, read: () => SpaceUsage) => {
      this.gauge(registers, `rayts_node_${name}_used_bytes`, `${what} in use, in bytes`, () => read().used);
      this.gauge(registers, `rayts_node_${name}_total_bytes`, `${what}, in bytes`, () => read().total);
    };
    space('memory', 'Memory of the host (used = total minus available)', () => host.memory());
    space('disk', 'Space of the filesystem that holds the session directory', () => host.disk());
  }

  private storeMetrics(registers: Registry[]): void {
    // The store's stats are a few counters: each series reads them (no sharing between collects).
    const stats = () => this.deps.store.stats();
    this.gauge(registers, 'rayts_object_store_used_bytes', 'Bytes allocated in the object store', () => stats().used);
    this.gauge(registers, 'rayts_object_store_capacity_bytes', 'Size of the object store', () => stats().capacity);
    this.gauge(registers, 'rayts_object_store_objects', 'Objects in the object store (sealed or not)', () => stats().numObjects);
    this.gauge(registers, 'rayts_object_store_pinned_objects', 'Objects in the object store pinned by a reader or writer (they cannot be evicted or spilled meanwhile)', () => stats().numPinned);
    this.counter(registers, 'rayts_object_store_spilled_bytes_total', 'Bytes spilled to disk since the raylet started', () => stats().spilledBytesTotal);
    this.counter(registers, 'rayts_object_store_spilled_objects_total', 'Objects spilled to disk since the raylet started', () => stats().spilledObjectsTotal);
    this.counter(registers, 'rayts_object_store_restored_bytes_total', 'Bytes restored from spill files since the raylet started', () => stats().restoredBytesTotal);
    this.counter(registers, 'rayts_object_store_restored_objects_total', 'Objects restored from spill files since the raylet started', () => stats().restoredObjectsTotal);
  }

  private workMetrics(registers: Registry[]): void {
    const { workers, scheduler, router, actors, actorCalls, leasedTasks, memoryMonitor } = this.deps;
    new Gauge({
      name: 'rayts_workers', help: 'Worker processes of the node: starting (not yet connected), idle, busy (running a task, or leased to an owner), actor (hosting an actor)',
      labelNames: ['state'], registers,
      collect() {
        const counts = workerStates(workers.list(), scheduler.workerList(), (id) => actors.isActorWorker(id));
        for (const state of WORKER_STATES) this.set({ state }, counts[state]);
      },
    });
    new Gauge({
      name: 'rayts_worker_leases', help: 'Workers leased to owners, which push their tasks to them directly (HELD), and owners\' requests for one waiting here (REQUESTED)',
      labelNames: ['state'], registers,
      collect() {
        const c = scheduler.taskCounts();
        this.set({ state: 'HELD' }, c.leased);
        this.set({ state: 'REQUESTED' }, c.leaseRequests);
      },
    });
    this.counter(registers, 'rayts_worker_leases_granted_total', 'Worker leases granted to owners since the raylet started (an owner keeps one for its next tasks of the same kind)', () => scheduler.taskCounts().leasesGranted);
    new Gauge({
      name: 'rayts_tasks', help: 'Normal tasks the raylet handles on this node (tasks owners push to leased workers are in rayts_worker_leases): QUEUED (waiting for resources or a worker), RUNNING, PIPELINED (sent to a busy worker behind its running task), INFEASIBLE (no node can run them yet)',
      labelNames: ['state'], registers,
      collect() {
        const c = scheduler.taskCounts();
        this.set({ state: 'QUEUED' }, c.queued);
        this.set({ state: 'RUNNING' }, c.running);
        this.set({ state: 'PIPELINED' }, c.pipelined);
        this.set({ state: 'INFEASIBLE' }, router.infeasibleCount);
      },
    });
    new Gauge({
      name: 'rayts_scheduler_queue_length', help: 'Work waiting in the local scheduler for resources or a worker: tasks, and actor creations',
      labelNames: ['queue'], registers,
      collect() {
        this.set({ queue: 'tasks' }, scheduler.taskCounts().queued);
        this.set({ queue: 'actor_creations' }, actors.demands().length);
      },
    });
    new Counter({
      name: 'rayts_task_attempts_ended_total',
      help: 'Task attempts that ended on this node, each counted once: normal tasks (NORMAL_TASK) and actor calls (ACTOR_TASK), FINISHED or FAILED (an application error, or its worker died)',
      labelNames: ['type', 'state'], registers,
      collect() {
        const relayed = scheduler.endedAttempts();
        const leased = leasedTasks.totals();
        const calls = actorCalls.totals();
        this.reset();
        this.inc({ type: 'NORMAL_TASK', state: 'FINISHED' }, relayed.finished + leased.finished);
        this.inc({ type: 'NORMAL_TASK', state: 'FAILED' }, relayed.failed + leased.failed);
        this.inc({ type: 'ACTOR_TASK', state: 'FINISHED' }, calls.finished);
        this.inc({ type: 'ACTOR_TASK', state: 'FAILED' }, calls.failed);
      },
    });
    new Counter({
      name: 'rayts_memory_monitor_worker_kills_total',
      help: 'Workers the memory monitor killed because the node\'s memory passed the threshold (Ray\'s memory_manager_worker_eviction_total): running a normal task (NORMAL_TASK) or hosting an actor (ACTOR)',
      labelNames: ['type'], registers,
      collect() {
        const kills = memoryMonitor.killCounts();
        this.reset();
        this.inc({ type: 'NORMAL_TASK' }, kills.tasks);
        this.inc({ type: 'ACTOR' }, kills.actors);
      },
    });
  }

  private gauge(registers: Registry[], name: string, help: string, value: () => number): void {
    new Gauge({ name, help, registers, collect() { this.set(value()); } });
  }

  /** A counter whose total is kept elsewhere (it only grows there), read at scrape time. */
  private counter(registers: Registry[], name: string, help: string, total: () => number): void {
    new Counter({ name, help, registers, collect() { this.reset(); this.inc(total()); } });
  }
}
