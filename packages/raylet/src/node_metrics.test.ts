import { describe, expect, it } from 'vitest';
import type { WorkerSlot } from './local_scheduler.js';
import { NodeMetrics, workerStates, type NodeMetricsDeps } from './node_metrics.js';

const slot = (workerId: string, running: boolean): WorkerSlot => ({
  workerId, pid: 1, blocked: false, send: () => undefined,
  ...(running ? { running: { spec: {} as never, jobDir: '', deliver: () => undefined, queuedAt: 0 } } : {}),
});

describe('workerStates', () => {
  it('tells starting, actor, busy and idle workers apart', () => {
    const pool = [
      { workerId: 'new', connected: false },
      { workerId: 'actor', connected: true },
      { workerId: 'busy', connected: true },
      { workerId: 'idle', connected: true },
      // Reaped by the scheduler, not yet exited: still a process, doing nothing.
      { workerId: 'reaped', connected: true },
    ];
    expect(workerStates(pool, [slot('busy', true), slot('idle', false)], (id) => id === 'actor'))
      .toEqual({ starting: 1, idle: 2, busy: 1, actor: 1 });
  });
});

function deps(over: Partial<NodeMetricsDeps> = {}): NodeMetricsDeps {
  return {
    nodeId: 'n'.repeat(56), nodeIp: '10.0.0.7',
    host: { cpuUtilizationPercent: () => 12.5, cpuCount: () => 4, memory: () => ({ used: 100, total: 400 }), disk: () => ({ used: 5, total: 50 }) },
    store: {
      stats: () => ({
        used: 1024, capacity: 4096, numObjects: 3, numPinned: 1, spilledBytesTotal: 2048, spilledObjectsTotal: 2, restoredBytesTotal: 1024, restoredObjectsTotal: 1,
      }),
    },
    workers: { list: () => [{ workerId: 'a', connected: true }, { workerId: 'b', connected: false }] },
    scheduler: {
      workerList: () => [slot('a', true)],
      taskCounts: () => ({ queued: 7, running: 1, pipelined: 2, leaseRequests: 3, leased: 2, leasesGranted: 11 }),
      endedAttempts: () => ({ finished: 10, failed: 2 }),
    },
    router: { infeasibleCount: 3 },
    actors: { isActorWorker: () => false, demands: () => [{ shape: { CPU: 1 }, count: 1 }] },
    actorCalls: { totals: () => ({ finished: 5, failed: 1 }) },
    leasedTasks: { totals: () => ({ finished: 20, failed: 4 }) },
    memoryMonitor: { killCounts: () => ({ tasks: 4, actors: 1 }) },
    ...over,
  };
}

/** `name{labels} value` lines of the exposition, node labels left out. */
function samples(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('rayts_') && !l.includes('_bucket'))
    .map((l) => l.replace(/node_id="n+",?|node_ip="10\.0\.0\.7",?/g, '').replace(/,\}/, '}').replace('{}', ''));
}

describe('NodeMetrics', () => {
  it('reads the parts at scrape time, every series labelled with the node', async () => {
    const m = new NodeMetrics(deps());
    const text = await m.metrics();
    expect(text).toContain(`rayts_node_cpus{node_id="${'n'.repeat(56)}",node_ip="10.0.0.7"} 4`);
    const lines = samples(text);
    expect(lines).toEqual(expect.arrayContaining([
      'rayts_node_cpu_utilization_percent 12.5', 'rayts_node_memory_used_bytes 100', 'rayts_node_memory_total_bytes 400',
      'rayts_node_disk_used_bytes 5', 'rayts_node_disk_total_bytes 50',
      'rayts_object_store_used_bytes 1024', 'rayts_object_store_capacity_bytes 4096', 'rayts_object_store_objects 3', 'rayts_object_store_pinned_objects 1',
      'rayts_object_store_spilled_bytes_total 2048', 'rayts_object_store_spilled_objects_total 2',
      'rayts_object_store_restored_bytes_total 1024', 'rayts_object_store_restored_objects_total 1',
      'rayts_workers{state="starting"} 1', 'rayts_workers{state="busy"} 1', 'rayts_workers{state="idle"} 0', 'rayts_workers{state="actor"} 0',
      'rayts_tasks{state="QUEUED"} 7', 'rayts_tasks{state="RUNNING"} 1', 'rayts_tasks{state="PIPELINED"} 2', 'rayts_tasks{state="INFEASIBLE"} 3',
      'rayts_scheduler_queue_length{queue="tasks"} 7', 'rayts_scheduler_queue_length{queue="actor_creations"} 1',
      'rayts_worker_leases{state="HELD"} 2', 'rayts_worker_leases{state="REQUESTED"} 3', 'rayts_worker_leases_granted_total 11',
      // Relayed (the scheduler's 10 and 2) and pushed to leased workers (their counts files' 20 and 4).
      'rayts_task_attempts_ended_total{type="NORMAL_TASK",state="FINISHED"} 30', 'rayts_task_attempts_ended_total{type="NORMAL_TASK",state="FAILED"} 6',
      'rayts_task_attempts_ended_total{type="ACTOR_TASK",state="FINISHED"} 5', 'rayts_task_attempts_ended_total{type="ACTOR_TASK",state="FAILED"} 1',
      'rayts_memory_monitor_worker_kills_total{type="NORMAL_TASK"} 4', 'rayts_memory_monitor_worker_kills_total{type="ACTOR"} 1',
    ]));
    expect(text).toContain('# TYPE rayts_task_attempts_ended_total counter');
    expect(text).toContain('# TYPE rayts_object_store_spilled_bytes_total counter');
  });

  it('follows the totals from one scrape to the next', async () => {
    let finished = 1;
    const m = new NodeMetrics(deps({ scheduler: { ...deps().scheduler, endedAttempts: () => ({ finished, failed: 0 }) } }));
    expect(samples(await m.metrics())).toContain('rayts_task_attempts_ended_total{type="NORMAL_TASK",state="FINISHED"} 21');
    finished = 4;
    expect(samples(await m.metrics())).toContain('rayts_task_attempts_ended_total{type="NORMAL_TASK",state="FINISHED"} 24');
  });

  it('times gRPC calls into its histogram', async () => {
    const m = new NodeMetrics(deps());
    m.rpcLatency.observe('/rayts.v1.RayletService/HealthCheck', 0, 0.002);
    const lines = samples(await m.metrics());
    expect(lines).toContain('rayts_grpc_server_latency_seconds_count{method="RayletService/HealthCheck",code="OK"} 1');
  });

  it('keeps its metrics out of prom-client\'s global registry', async () => {
    const { register } = await import('prom-client');
    new NodeMetrics(deps());
    expect(register.getSingleMetric('rayts_workers')).toBeUndefined();
  });
});
