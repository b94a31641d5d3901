/**
 * The head's Prometheus metrics: the cluster as the head knows it (nodes, actors, placement groups
 * and jobs by state, resources), read from the managers at scrape time, and two latency histograms
 * observed as the work happens: the head's gRPC calls and its SQLite statements. One registry of its
 * own, never prom-client's global one. The head's HTTP server serves it at /metrics.
 *
 * The histograms exist before the parts they time (the database is opened, and the gRPC server
 * created, before the managers the gauges read), so they are built first as `HeadLatencies` and
 * joined to the registry when `ClusterMetrics` is built from the finished parts.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { GRPC_SERVER_LATENCY_METRIC, PLACEMENT_GROUP_STATES, RpcLatency, isHiddenResource } from '@rayts/common';
import type { NodeManager } from './node_manager.js';
import type { ActorManager } from './actor_manager.js';
import type { PlacementGroupManager } from './placement_group_manager.js';
import type { JobTable } from './job_table.js';
import type { JobManager } from './jobs/job_manager.js';
import type { PackageStore } from './packages/package_store.js';
import { JOB_STATUSES } from './jobs/job_api.js';
import { ACTOR_STATES } from './storage/actor_table.js';
import { STORAGE_LATENCY_BUCKETS } from './storage/timed_statements.js';

/** Histograms observed from the head's start: gRPC calls (createServer's `latency`) and SQLite work (timeStatements). */
export class HeadLatencies {
  readonly rpc: Histogram<'method' | 'code'>;
  readonly rpcLatency: RpcLatency;
  readonly storage: Histogram<'operation' | 'table'>;

  constructor() {
    this.rpc = new Histogram({ ...GRPC_SERVER_LATENCY_METRIC, labelNames: [...GRPC_SERVER_LATENCY_METRIC.labelNames], registers: [] });
    this.rpcLatency = new RpcLatency(this.rpc);
    this.storage = new Histogram({
      name: 'rayts_gcs_storage_latency_seconds',
      help: 'Time of the head\'s SQLite statements (operation and table) and of whole transactions (operation TRANSACTION, with their commit)',
      labelNames: ['operation', 'table'], buckets: STORAGE_LATENCY_BUCKETS, registers: [],
    });
  }
}

/** What the gauges read, narrowed to the calls they make. */
export interface ClusterMetricsSources {
  nodes: Pick<NodeManager, 'alive' | 'deadNodes'>;
  actors: Pick<ActorManager, 'list'>;
  placementGroups: Pick<PlacementGroupManager, 'list'>;
  jobs: Pick<JobTable, 'countByState'>;
  submissions: Pick<JobManager, 'list'>;
  packages: Pick<PackageStore, 'receivedBytes'>;
}

/** Counts of `items` by state, every known state present (0 when none), so a series never vanishes. */
export function countByState<S extends string>(states: readonly S[], items: Iterable<{ state: S }>): Record<S, number> {
  const counts = Object.fromEntries(states.map((s) => [s, 0])) as Record<S, number>;
  for (const item of items) counts[item.state] = (counts[item.state] ?? 0) + 1;
  return counts;
}

export class ClusterMetrics {
  readonly registry = new Registry();

  constructor(sources: ClusterMetricsSources, latencies: HeadLatencies) {
    const { nodes, actors, placementGroups, jobs, submissions, packages } = sources;
    const registers = [this.registry];
    const byState = (name: string, help: string, read: () => Record<string, number>) => new Gauge({
      name, help, labelNames: ['state'], registers,
      collect() {
        for (const [state, n] of Object.entries(read())) this.set({ state }, n);
      },
    });
    byState('rayts_cluster_nodes', 'Nodes by state: ALIVE, and DEAD (the dead nodes the head keeps, RAYTS_DEAD_NODES_KEPT)',
      () => ({ ALIVE: nodes.alive().length, DEAD: nodes.deadNodes(Number.MAX_SAFE_INTEGER).length }));
    byState('rayts_cluster_actors', 'Actors by state (DEAD: the dead actors the head keeps, RAYTS_DEAD_ACTORS_KEPT)',
      () => countByState(ACTOR_STATES, actors.list(true)));
    byState('rayts_cluster_placement_groups', 'Placement groups by state (REMOVED: those the head keeps, RAYTS_REMOVED_PLACEMENT_GROUPS_KEPT)',
      () => countByState(PLACEMENT_GROUP_STATES, placementGroups.list()));
    byState('rayts_cluster_jobs', 'Jobs (drivers) by state: RUNNING and FINISHED', () => jobs.countByState());
    byState('rayts_cluster_submitted_jobs', 'Submitted jobs (rayts job submit) by status (the finished ones the head keeps, RAYTS_JOBS_KEPT)',
      () => countByState(JOB_STATUSES, submissions.list().filter((j) => j.type === 'SUBMISSION').map((j) => ({ state: j.status }))));
    new Counter({
      name: 'rayts_job_package_received_bytes_total', help: 'Bytes of working_dir package uploads the head received (kept or refused)', registers,
      collect() {
        this.reset();
        this.inc(packages.receivedBytes);
      },
    });
    new Gauge({
      name: 'rayts_cluster_resources', help: 'Resources of the alive nodes as last reported: total, and available (not held by tasks, actors or placement groups)',
      labelNames: ['resource', 'kind'], registers,
      collect() {
        this.reset();
        const total: Record<string, number> = {};
        const available: Record<string, number> = {};
        for (const n of nodes.alive()) {
          for (const [k, v] of Object.entries(n.total)) if (!isHiddenResource(k)) total[k] = (total[k] ?? 0) + v;
          for (const [k, v] of Object.entries(n.available)) if (!isHiddenResource(k)) available[k] = (available[k] ?? 0) + v;
        }
        for (const [resource, v] of Object.entries(total)) {
          this.set({ resource, kind: 'total' }, v);
          this.set({ resource, kind: 'available' }, available[resource] ?? 0);
        }
      },
    });
    this.registry.registerMetric(latencies.rpc);
    this.registry.registerMetric(latencies.storage);
  }

  /** The text Prometheus scrapes. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

