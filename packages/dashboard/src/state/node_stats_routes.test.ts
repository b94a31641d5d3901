/** GET /api/v0/node_stats: each alive node's store from its raylet; a node that fails is named, not waited for. */
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import type { NodeStats__Output } from '@rayts/common';
import type { NodeRecord } from '@rayts/gcs';
import { nodeStatsRoutes } from './node_stats_routes.js';
import type { StateSources } from './sources.js';

const record = (nodeId: string, nodeIp: string) => ({ nodeId, nodeIp }) as unknown as NodeRecord;

function sources(): StateSources {
  return {
    nodes: () => [{ record: record('a', '10.0.0.1'), live: {} as never }, { record: record('b', '10.0.0.2'), live: {} as never }, { record: record('dead', '10.0.0.3') }],
    nodeStats: async (node, include) => {
      if (node.nodeId === 'b') throw new Error('deadline exceeded');
      expect(include).toEqual({ workers: true });
      return {
        nodeId: node.nodeId, nodeIp: node.nodeIp, refs: [],
        store: { capacity: 1000, used: 250, primaryBytes: 200, numObjects: 3, spilledBytesNow: 50, spilledBytesTotal: 70, restoredBytesTotal: 20 },
        workers: [{ isAlive: true }, { isAlive: false }, { isAlive: true }],
        host: { cpuPercent: 37.25, numCpus: 2, memoryUsedBytes: 5000, memoryTotalBytes: 8000 },
      } as unknown as NodeStats__Output;
    },
  } as Partial<StateSources> as StateSources;
}

describe('GET /api/v0/node_stats', () => {
  it('answers each alive node\'s store and worker count, and names the node that did not answer', async () => {
    const app = Fastify();
    await app.register(nodeStatsRoutes(sources()));
    const r = await app.inject({ method: 'GET', url: '/api/v0/node_stats?timeout=1' });
    expect(r.statusCode).toBe(200);
    const body = r.json() as { result: unknown[]; partial_failure_warning: string };
    expect(body.result).toEqual([{
      node_id: 'a', node_ip: '10.0.0.1', store_capacity_bytes: 1000, store_used_bytes: 250, store_primary_bytes: 200, store_num_objects: 3,
      spilled_bytes_now: 50, spilled_bytes_total: 70, restored_bytes_total: 20, workers_alive: 2,
      cpu_percent: 37.3, num_cpus: 2, memory_used_bytes: 5000, memory_total_bytes: 8000,
    }]);
    expect(body.partial_failure_warning).toContain('node b (10.0.0.2) did not answer: deadline exceeded');
    const bad = await app.inject({ method: 'GET', url: '/api/v0/node_stats?timeout=zero' });
    expect([bad.statusCode, bad.json().message]).toEqual([400, "bad timeout: 'zero' is not a number of seconds from 0 to 3600"]);
    await app.close();
  });
});
