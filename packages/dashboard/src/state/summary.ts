/**
 * Ray's summaries (`ray summary tasks|actors|objects`): counts per function (tasks, by the latest
 * attempt of each task), per class (actors) and per call site (objects).
 */
import type { Row } from './rows.js';
import type { TaskEventStats } from '@rayts/gcs';

export interface Summary {
  /** Ray's "Stats:" block. */
  stats: Record<string, number | boolean>;
  /** What the table groups by (Ray's header: "Table (group by func_name)"). */
  groupBy: string;
  groups: Row[];
  warnings: string[];
}

function count(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** `rows` are task attempts; a task counts once, by its latest attempt. */
export function summarizeTasks(rows: Row[], events: TaskEventStats): Summary {
  const latest = new Map<string, Row>();
  for (const r of rows) {
    const seen = latest.get(r.task_id as string);
    if (!seen || (r.attempt_number as number) > (seen.attempt_number as number)) latest.set(r.task_id as string, r);
  }
  const groups = new Map<string, { func_or_class_name: string; type: string; state_counts: Record<string, number> }>();
  let normal = 0, actorTasks = 0, actorsScheduled = 0;
  for (const r of latest.values()) {
    const type = r.type as string;
    if (type === 'ACTOR_TASK') actorTasks++;
    else if (type === 'ACTOR_CREATION_TASK') actorsScheduled++;
    else if (type === 'NORMAL_TASK') normal++;
    else continue; // the drivers themselves (DRIVER_TASK) are listed, not summarized
    const key = `${r.func_or_class_name as string}\u0000${type}`;
    let g = groups.get(key);
    if (!g) groups.set(key, g = { func_or_class_name: r.func_or_class_name as string, type, state_counts: {} });
    count(g.state_counts, r.state as string);
  }
  const warnings: string[] = [];
  const lost = events.droppedAtWorkers + events.evictedAtGcs;
  if (lost > 0) {
    warnings.push(`${events.droppedAtWorkers} task events were dropped by workers and ${events.evictedAtGcs} task attempts were evicted at the head `
      + '(bounded buffers): the counts may be incomplete');
  }
  return {
    stats: {
      total_tasks: normal, total_actor_tasks: actorTasks, total_actor_scheduled: actorsScheduled,
      num_task_events_dropped_at_workers: events.droppedAtWorkers, num_task_attempts_evicted_at_head: events.evictedAtGcs,
    },
    groupBy: 'func_name',
    groups: [...groups.values()].sort((a, b) => a.func_or_class_name.localeCompare(b.func_or_class_name) || a.type.localeCompare(b.type)),
    warnings,
  };
}

export function summarizeActors(rows: Row[]): Summary {
  const groups = new Map<string, { class_name: string; state_counts: Record<string, number> }>();
  for (const r of rows) {
    const name = r.class_name as string;
    let g = groups.get(name);
    if (!g) groups.set(name, g = { class_name: name, state_counts: {} });
    count(g.state_counts, r.state as string);
  }
  return {
    stats: { total_actors: rows.length },
    groupBy: 'class',
    groups: [...groups.values()].sort((a, b) => a.class_name.localeCompare(b.class_name)),
    warnings: [],
  };
}

const MB = 1024 * 1024;

export function summarizeObjects(rows: Row[]): Summary {
  interface Group { call_site: string; total_objects: number; total_size_mb: number; workers: Set<string>; nodes: Set<string>;
    task_state_counts: Record<string, number>; ref_type_counts: Record<string, number> }
  const groups = new Map<string, Group>();
  let totalBytes = 0;
  for (const r of rows) {
    const site = (r.call_site as string | null) ?? 'disabled';
    let g = groups.get(site);
    if (!g) groups.set(site, g = { call_site: site, total_objects: 0, total_size_mb: 0, workers: new Set(), nodes: new Set(), task_state_counts: {}, ref_type_counts: {} });
    const size = (r.object_size as number | null) ?? 0;
    g.total_objects++;
    g.total_size_mb += size / MB;
    totalBytes += size;
    g.workers.add(`${r.ip as string}:${r.pid as number}`);
    g.nodes.add(r.node_id as string);
    count(g.task_state_counts, (r.task_status as string | null) ?? 'NIL');
    count(g.ref_type_counts, r.reference_type as string);
  }
  return {
    stats: { total_objects: rows.length, total_size_mb: totalBytes / MB, callsite_enabled: true },
    groupBy: 'callsite',
    groups: [...groups.values()].sort((a, b) => b.total_size_mb - a.total_size_mb).map(({ workers, nodes, ...g }) => ({
      ...g, total_num_workers: workers.size, total_num_nodes: nodes.size,
    })),
    warnings: [],
  };
}
