export { startHead, type HeadOptions, type RunningHead } from './head.js';
export { openDatabase, DB_FILE } from './storage/database.js';
export { loadOrCreateIdentity } from './cluster_identity.js';
export { ClusterMetrics, HeadLatencies, type ClusterMetricsSources } from './cluster_metrics.js';
export {
  MetricsDiscoveryFile, metricsDiscoveryPath, METRICS_DISCOVERY_FILE, type MetricsTarget, type FileSdGroup, type DiscoveryMembership, type MetricsDiscoveryOptions,
} from './metrics_discovery_file.js';
