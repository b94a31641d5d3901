import { describe, expect, it } from 'vitest';
import { ClusterMetrics, HeadLatencies, countByState, type ClusterMetricsSources } from './cluster_metrics.js';

function sources(): ClusterMetricsSources {
  const live = (total: Record<string, number>, available: Record<string, number>) => ({ record: {} as never, total, available, demands: [], lastSeenMs: 0 });
  return {
    nodes: {
      alive: () => [live({ CPU: 4, 'node:10.0.0.1': 1, GPU: 1 }, { CPU: 1, 'node:10.0.0.1': 1, GPU: 1 }), live({ CPU: 2, CPU_group_abc: 1 }, { CPU: 2 })],
      deadNodes: () => [{} as never],
    },
    actors: { list: () => [{ state: 'ALIVE' }, { state: 'ALIVE' }, { state: 'DEAD' }] as never },
    placementGroups: { list: () => [{ state: 'CREATED' }, { state: 'PENDING' }] as never },
    jobs: { countByState: () => ({ RUNNING: 2, FINISHED: 5 }) },
    submissions: { list: () => [{ type: 'SUBMISSION', status: 'RUNNING' }, { type: 'SUBMISSION', status: 'FAILED' }, { type: 'DRIVER', status: 'RUNNING' }] as never },
    packages: { receivedBytes: 12345 },
  };
}

function samples(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('rayts_') && !l.includes('_bucket'));
}

describe('countByState', () => {
  it('lists every known state, 0 when none is in it', () => {
    expect(countByState(['A', 'B', 'C'] as const, [{ state: 'A' }, { state: 'C' }, { state: 'A' }])).toEqual({ A: 2, B: 0, C: 1 });
  });
});

describe('ClusterMetrics', () => {
  it('reads nodes, actors, placement groups, jobs and resources at scrape time', async () => {
    const m = new ClusterMetrics(sources(), new HeadLatencies());
    expect(samples(await m.metrics())).toEqual(expect.arrayContaining([
      'rayts_cluster_nodes{state="ALIVE"} 2', 'rayts_cluster_nodes{state="DEAD"} 1',
      'rayts_cluster_actors{state="ALIVE"} 2', 'rayts_cluster_actors{state="DEAD"} 1', 'rayts_cluster_actors{state="PENDING_CREATION"} 0',
      'rayts_cluster_actors{state="RESTARTING"} 0',
      'rayts_cluster_placement_groups{state="CREATED"} 1', 'rayts_cluster_placement_groups{state="PENDING"} 1', 'rayts_cluster_placement_groups{state="REMOVED"} 0',
      'rayts_cluster_jobs{state="RUNNING"} 2', 'rayts_cluster_jobs{state="FINISHED"} 5',
      'rayts_cluster_submitted_jobs{state="RUNNING"} 1', 'rayts_cluster_submitted_jobs{state="FAILED"} 1', 'rayts_cluster_submitted_jobs{state="PENDING"} 0',
      'rayts_job_package_received_bytes_total 12345',
      'rayts_cluster_resources{resource="CPU",kind="total"} 6', 'rayts_cluster_resources{resource="CPU",kind="available"} 3',
      'rayts_cluster_resources{resource="GPU",kind="total"} 1', 'rayts_cluster_resources{resource="GPU",kind="available"} 1',
    ]));
    // Per-node markers and placement-group resources stay out, as in `rayts status`.
    expect(await m.metrics()).not.toMatch(/resource="(node:|CPU_group)/);
  });

  it('carries the latency histograms observed before it was built', async () => {
    const latencies = new HeadLatencies();
    latencies.rpcLatency.observe('/rayts.v1.NodeService/RegisterNode', 0, 0.003);
    latencies.storage.labels('INSERT', 'nodes').observe(0.0001);
    const text = await new ClusterMetrics(sources(), latencies).metrics();
    expect(samples(text)).toEqual(expect.arrayContaining([
      'rayts_grpc_server_latency_seconds_count{method="NodeService/RegisterNode",code="OK"} 1',
      'rayts_gcs_storage_latency_seconds_count{operation="INSERT",table="nodes"} 1',
    ]));
  });
});
