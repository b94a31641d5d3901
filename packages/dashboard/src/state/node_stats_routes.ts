/**
 * `GET /api/v0/node_stats`: each alive node's object store as its raylet reports it (capacity, bytes
 * used, objects, spilled bytes) and its host's CPU and memory use — what the web page's Nodes table
 * draws as bars. A node that does not
 * answer within the timeout (`timeout`, seconds, as for the lists) is named in
 * `partial_failure_warning`, never waited for.
 */
import type { FastifyPluginAsync } from 'fastify';
import { gatherNodeStats, type StateSources } from './sources.js';
import { parseQuery, type RawQuery } from './query.js';

export interface NodeStoreRow {
  node_id: string;
  node_ip: string;
  store_capacity_bytes: number;
  store_used_bytes: number;
  store_primary_bytes: number;
  store_num_objects: number;
  spilled_bytes_now: number;
  spilled_bytes_total: number;
  restored_bytes_total: number;
  workers_alive: number;
  /** The host: CPU use of all cores since the previous reading (percent), and memory in use. */
  cpu_percent: number;
  num_cpus: number;
  memory_used_bytes: number;
  memory_total_bytes: number;
}

export interface NodeStatsReply {
  result: NodeStoreRow[];
  partial_failure_warning: string | null;
}

export function nodeStatsRoutes(sources: StateSources): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: RawQuery }>('/api/v0/node_stats', async (req): Promise<NodeStatsReply> => {
      const query = parseQuery({ timeout: req.query.timeout });
      const { stats, failures } = await gatherNodeStats(sources, { workers: true }, query.timeoutMs);
      return {
        result: stats.map(({ node, stats: s }) => ({
          node_id: node.nodeId,
          node_ip: node.nodeIp,
          store_capacity_bytes: Number(s.store?.capacity ?? 0),
          store_used_bytes: Number(s.store?.used ?? 0),
          store_primary_bytes: Number(s.store?.primaryBytes ?? 0),
          store_num_objects: s.store?.numObjects ?? 0,
          spilled_bytes_now: Number(s.store?.spilledBytesNow ?? 0),
          spilled_bytes_total: Number(s.store?.spilledBytesTotal ?? 0),
          restored_bytes_total: Number(s.store?.restoredBytesTotal ?? 0),
          workers_alive: s.workers.filter((w) => w.isAlive).length,
          cpu_percent: Math.round((s.host?.cpuPercent ?? 0) * 10) / 10,
          num_cpus: s.host?.numCpus ?? 0,
          memory_used_bytes: Number(s.host?.memoryUsedBytes ?? 0),
          memory_total_bytes: Number(s.host?.memoryTotalBytes ?? 0),
        })),
        partial_failure_warning: failures.length ? `some nodes did not answer, their data is missing: ${failures.join('; ')}` : null,
      };
    });
  };
}
