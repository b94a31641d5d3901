/**
 * Cluster records as the state API shows them: Ray's field names (snake_case) and state names, one
 * flat row per node, actor, task attempt, object reference, worker, placement group or job. Absent
 * values are null, as in Ray's output.
 */
import { placementGroupOfResources, type NodeStats__Output, type ObjectRefInfo__Output, type WorkerInfo__Output } from '@rayts/common';
import type { ActorRecord, JobDetails, LiveNode, NodeRecord, PlacementGroup } from '@rayts/gcs';
import type { TaskAttempt } from '@rayts/gcs';

export type Row = Record<string, unknown>;

const orNull = <T>(v: T | undefined | ''): T | null => (v === undefined || v === '' ? null : v);
const time = (ms: number | undefined): number | null => (ms ? ms : null);

export function nodeRow({ record, live }: { record: NodeRecord; live?: LiveNode }): Row {
  return {
    node_id: record.nodeId,
    node_ip: record.nodeIp,
    is_head_node: record.isHead,
    // Ray's node states are ALIVE and DEAD.
    state: record.state === 'NODE_ALIVE' ? 'ALIVE' : 'DEAD',
    state_message: orNull(record.deathReason),
    node_name: record.hostname,
    resources_total: live?.total ?? record.resourcesTotal,
    labels: record.labels,
    resources_available: live?.available ?? null,
    raylet_port: record.rayletPort,
    raylet_pid: record.rayletPid,
    death_cause: orNull(record.deathCause),
    start_time_ms: time(record.startTimeMs),
    end_time_ms: time(record.deathTimeMs),
    rayts_version: record.version,
    session_name: record.sessionName,
  };
}

export function actorRow(a: ActorRecord): Row {
  const s = a.spec;
  const pg = placementGroupOfResources(s.placementResources);
  return {
    actor_id: s.actorId,
    class_name: s.className,
    state: a.state,
    job_id: s.jobId,
    name: s.name,
    node_id: orNull(a.nodeId),
    pid: a.pid || null,
    ray_namespace: s.namespace,
    node_ip: orNull(a.nodeIp),
    worker_id: orNull(a.workerId),
    is_detached: s.detached,
    num_restarts: a.numRestarts,
    max_restarts: s.maxRestarts,
    max_task_retries: s.maxTaskRetries,
    max_concurrency: s.maxConcurrency,
    required_resources: s.placementResources,
    placement_group_id: orNull(pg),
    death_cause: orNull(a.deathCause),
    death_message: orNull(a.deathMessage),
    pending_reason: orNull(a.pendingReason),
    start_time_ms: time(a.startTimeMs),
    end_time_ms: time(a.endTimeMs),
  };
}

export function placementGroupRow(pg: PlacementGroup): Row {
  return {
    placement_group_id: pg.placementGroupId,
    name: pg.name,
    creator_job_id: pg.jobId,
    state: pg.state,
    strategy: pg.strategy,
    is_detached: pg.detached,
    bundles: pg.bundles.map((b, i) => ({ bundle_index: i, node_id: b.nodeId ?? null, unit_resources: b.resources })),
    pending_reason: orNull(pg.pendingReason),
    infeasible: pg.infeasible,
    created_at_ms: time(pg.createdAtMs),
    removed_at_ms: time(pg.removedAtMs),
  };
}

export function jobRow(j: JobDetails): Row {
  return {
    job_id: j.jobId,
    submission_id: j.submissionId,
    entrypoint: j.entrypoint,
    type: j.type,
    status: j.status,
    message: orNull(j.message),
    error_type: j.errorType,
    driver_info: j.jobId || j.driverPid ? { id: j.jobId, node_ip_address: j.driverNodeIp, pid: j.driverPid === null ? null : String(j.driverPid) } : null,
    driver_node_id: j.driverNodeId,
    driver_exit_code: j.driverExitCode,
    runtime_env: j.runtimeEnv,
    metadata: j.metadata,
    start_time_ms: time(j.startTimeMs),
    end_time_ms: time(j.endTimeMs ?? undefined),
  };
}

export function taskRow(t: TaskAttempt): Row {
  return {
    task_id: t.taskId,
    attempt_number: t.attemptNumber,
    name: t.name,
    state: t.state,
    job_id: t.jobId,
    actor_id: t.actorId ?? null,
    type: t.type,
    func_or_class_name: t.funcOrClassName,
    parent_task_id: t.parentTaskId ?? null,
    node_id: t.nodeId ?? null,
    worker_id: t.workerId ?? null,
    worker_pid: t.workerPid ?? null,
    error_type: t.errorType ?? null,
    error_message: t.errorMessage ?? null,
    required_resources: t.requiredResources ?? null,
    placement_group_id: t.placementGroupId ?? null,
    creation_time_ms: t.creationTimeMs ?? null,
    start_time_ms: t.startTimeMs ?? null,
    end_time_ms: t.endTimeMs ?? null,
    events: t.stateTransitions.map((e) => ({ state: e.state, created_ms: e.timeMs })),
    task_log_info: t.log ? {
      stdout_file: t.log.stdoutFile, stderr_file: t.log.stderrFile, stdout_start: t.log.stdoutStart, stdout_end: t.log.stdoutEnd,
      stderr_start: t.log.stderrStart, stderr_end: t.log.stderrEnd,
    } : null,
  };
}

export function objectRow(ref: ObjectRefInfo__Output, node: NodeStats__Output): Row {
  return {
    object_id: ref.objectId,
    object_size: ref.size >= 0 ? ref.size : null,
    task_status: orNull(ref.status),
    attempt_number: ref.attempt,
    reference_type: ref.referenceType,
    call_site: orNull(ref.callSite),
    type: ref.workerType.toUpperCase(),
    pid: ref.pid,
    ip: ref.ip,
    node_id: node.nodeId,
  };
}

export function workerRow(w: WorkerInfo__Output, node: NodeStats__Output): Row {
  return {
    worker_id: w.workerId,
    is_alive: w.isAlive,
    worker_type: w.workerType,
    exit_type: orNull(w.exitType),
    node_id: node.nodeId,
    ip: node.nodeIp,
    pid: w.pid,
    exit_detail: orNull(w.exitDetail),
    job_id: orNull(w.jobId),
    start_time_ms: time(w.startTimeMs),
    end_time_ms: time(w.endTimeMs),
    // While alive: CPU since the raylet's previous reading (100 = one core) and resident memory.
    cpu_percent: w.isAlive ? round1(w.cpuPercent) : null,
    rss_bytes: w.isAlive ? Number(w.rssBytes) : null,
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
