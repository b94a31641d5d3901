/**
 * The resources of the state API (Ray's `ray list` resources): for each, its id field, the columns
 * a plain listing shows (the detailed one shows every field), and how its rows are gathered.
 */
import { gatherNodeStats, type StateSources } from './sources.js';
import { actorRow, jobRow, nodeRow, objectRow, placementGroupRow, taskRow, workerRow, type Row } from './rows.js';

export const RESOURCE_NAMES = ['nodes', 'actors', 'tasks', 'objects', 'workers', 'placement_groups', 'jobs'] as const;
export type ResourceName = (typeof RESOURCE_NAMES)[number];

export interface Gathered {
  /** Every row, before filters. */
  rows: Row[];
  /** Parts of the cluster that did not answer (their rows are missing). */
  failures: string[];
  /** How many rows the resource has, when `rows` holds only some of them (an id looked up). */
  total?: number;
}

export interface ResourceSpec {
  idField: string;
  /** Columns of the default (not detailed) view, in order (Ray's). */
  columns: readonly string[];
  gather(sources: StateSources, timeoutMs: number): Promise<Gathered>;
  /** The rows of one id, when the resource can find them without gathering everything. */
  lookup?(sources: StateSources, id: string): Row[];
  /** How many rows it has, without gathering them (lets a listing filtered by id use `lookup`). */
  count?(sources: StateSources): number;
}

const byNumber = (field: string, descending = false) => (a: Row, b: Row) => {
  const d = (Number(a[field]) || 0) - (Number(b[field]) || 0);
  return descending ? -d : d;
};

export const RESOURCES: Record<ResourceName, ResourceSpec> = {
  nodes: {
    idField: 'node_id',
    columns: ['node_id', 'node_ip', 'is_head_node', 'state', 'state_message', 'node_name', 'resources_total', 'labels'],
    gather: async (sources) => ({ rows: sources.nodes().map(nodeRow).sort(byNumber('start_time_ms')), failures: [] }),
  },
  actors: {
    idField: 'actor_id',
    columns: ['actor_id', 'class_name', 'state', 'job_id', 'name', 'node_id', 'pid', 'ray_namespace'],
    gather: async (sources) => ({ rows: sources.actors().map(actorRow).sort(byNumber('start_time_ms')), failures: [] }),
  },
  tasks: {
    idField: 'task_id',
    columns: ['task_id', 'attempt_number', 'name', 'state', 'job_id', 'actor_id', 'type', 'func_or_class_name', 'parent_task_id',
      'node_id', 'worker_id', 'worker_pid', 'error_type'],
    // Newest first: with a limit, the latest work is what one wants to see.
    gather: async (sources) => ({ rows: [...sources.taskAttempts()].map(taskRow).sort(byNumber('creation_time_ms', true)), failures: [] }),
    lookup: (sources, id) => sources.taskAttemptsOf(id).map(taskRow),
    count: (sources) => sources.taskEventStats().stored,
  },
  objects: {
    idField: 'object_id',
    columns: ['object_id', 'object_size', 'task_status', 'attempt_number', 'reference_type', 'call_site', 'type', 'pid', 'ip'],
    gather: async (sources, timeoutMs) => {
      const { stats, failures } = await gatherNodeStats(sources, { memoryInfo: true }, timeoutMs);
      return { rows: stats.flatMap(({ stats: s }) => s.refs.map((r) => objectRow(r, s))), failures };
    },
  },
  workers: {
    idField: 'worker_id',
    columns: ['worker_id', 'is_alive', 'worker_type', 'exit_type', 'node_id', 'ip', 'pid'],
    gather: async (sources, timeoutMs) => {
      const { stats, failures } = await gatherNodeStats(sources, { workers: true }, timeoutMs);
      return { rows: stats.flatMap(({ stats: s }) => s.workers.map((w) => workerRow(w, s))).sort(byNumber('start_time_ms')), failures };
    },
  },
  placement_groups: {
    idField: 'placement_group_id',
    columns: ['placement_group_id', 'name', 'creator_job_id', 'state'],
    gather: async (sources) => ({ rows: sources.placementGroups().map(placementGroupRow).sort(byNumber('created_at_ms')), failures: [] }),
  },
  jobs: {
    idField: 'job_id',
    columns: ['job_id', 'submission_id', 'entrypoint', 'type', 'status', 'message', 'error_type', 'driver_info'],
    gather: async (sources) => ({ rows: sources.jobs().map(jobRow), failures: [] }),
    // By the driver's job id or by the submission id (a submission has no job id before its driver starts).
    lookup: (sources, id) => {
      const job = sources.job(id);
      return job ? [jobRow(job)] : [];
    },
  },
};

/** `placement-groups`, `placement_groups` and `PLACEMENT_GROUPS` all name one resource. */
export function resourceNamed(name: string): ResourceName | undefined {
  const n = name.toLowerCase().replace(/-/g, '_');
  return (RESOURCE_NAMES as readonly string[]).includes(n) ? (n as ResourceName) : undefined;
}
