export { startHead, type HeadOptions, type RunningHead } from './head.js';
export { openDatabase, DB_FILE } from './storage/database.js';
export { loadOrCreateIdentity } from './cluster_identity.js';
export type { HeadState } from './head_state.js';
export type { ClusterIdentity } from './cluster_identity.js';
export type { NodeManager, LiveNode } from './node_manager.js';
export type { NodeRecord } from './storage/node_table.js';
export type { ActorManager } from './actor_manager.js';
export type { PlacementGroupManager, PlacementGroup } from './placement_group_manager.js';
export type { JobTable } from './job_table.js';
export type { KvStore } from './kv_store.js';
export type { ActorRecord } from './storage/actor_table.js';
export type { JobRecord } from './job_table.js';
export { ClusterMetrics, HeadLatencies, type ClusterMetricsSources } from './cluster_metrics.js';
export {
  MetricsDiscoveryFile, metricsDiscoveryPath, METRICS_DISCOVERY_FILE, type MetricsTarget, type FileSdGroup, type DiscoveryMembership, type MetricsDiscoveryOptions,
} from './metrics_discovery_file.js';
export { TaskEventStore, type TaskEventStats, type AttemptReport } from './task_events/task_event_store.js';
export type { TaskAttempt, TaskLogLocation, TaskState, TaskType } from '@rayts/common';
export * from './jobs/job_api.js';
export { PackageStore, type PackageStoreOptions, type StoredPackage } from './packages/package_store.js';
export { addPackageService, type PackageServiceStore } from './packages/package_service.js';
