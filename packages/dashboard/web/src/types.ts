/** The shapes the page reads from the head's API (the fields it uses; see docs/observability.md). */

export type Row = Record<string, unknown>;

export interface ListReply<T = Row> {
  total: number;
  num_filtered: number;
  result: T[];
  partial_failure_warning: string | null;
}

export interface NodeRow {
  node_id: string;
  node_ip: string;
  is_head_node: boolean;
  state: 'ALIVE' | 'DEAD';
  state_message: string | null;
  node_name: string;
  resources_total: Record<string, number>;
  resources_available: Record<string, number> | null;
  labels: Record<string, string>;
  start_time_ms: number | null;
  end_time_ms: number | null;
  death_cause: string | null;
}

export interface NodeStoreRow {
  node_id: string;
  store_capacity_bytes: number;
  store_used_bytes: number;
  store_num_objects: number;
  spilled_bytes_now: number;
  spilled_bytes_total: number;
  workers_alive: number;
  cpu_percent: number;
  num_cpus: number;
  memory_used_bytes: number;
  memory_total_bytes: number;
}

export interface JobRow {
  job_id: string | null;
  submission_id: string | null;
  entrypoint: string;
  type: string;
  status: string;
  message: string | null;
  error_type: string | null;
  driver_node_id: string | null;
  driver_exit_code: number | null;
  start_time_ms: number | null;
  end_time_ms: number | null;
}

export interface TaskRow {
  task_id: string;
  attempt_number: number;
  name: string;
  state: string;
  job_id: string;
  actor_id: string | null;
  type: string;
  func_or_class_name: string;
  node_id: string | null;
  worker_id: string | null;
  worker_pid: number | null;
  error_type: string | null;
  error_message: string | null;
  creation_time_ms: number | null;
  start_time_ms: number | null;
  end_time_ms: number | null;
  events: { state: string; created_ms: number }[];
  /** Where the attempt's output went: byte ranges of its worker's files (end 0 while it runs). */
  task_log_info?: { stdout_file: string; stderr_file: string; stdout_start: number; stdout_end: number; stderr_start: number; stderr_end: number } | null;
}

export interface ActorRow {
  actor_id: string;
  class_name: string;
  state: string;
  job_id: string;
  name: string;
  node_id: string | null;
  node_ip: string | null;
  worker_id: string | null;
  pid: number | null;
  num_restarts: number;
  max_restarts: number;
  death_cause: string | null;
  death_message: string | null;
  ray_namespace: string;
}

export interface WorkerRow {
  worker_id: string;
  is_alive: boolean;
  worker_type: string;
  exit_type: string | null;
  pid: number;
  job_id: string | null;
  start_time_ms: number | null;
  end_time_ms: number | null;
  exit_detail: string | null;
  cpu_percent: number | null;
  rss_bytes: number | null;
}

export interface SummaryGroup {
  func_or_class_name?: string;
  class_name?: string;
  type?: string;
  state_counts: Record<string, number>;
}

export interface SummaryReply {
  stats: Record<string, number>;
  groups: SummaryGroup[];
}

export interface HistorySample {
  timeMs: number;
  aliveNodes: number;
  used: Record<string, number>;
  total: Record<string, number>;
}

export interface HistoryReply {
  intervalMs: number;
  capacity: number;
  samples: HistorySample[];
}

export interface LogFile {
  name: string;
  size: number;
  modified_ms: number;
  category: string;
}

export interface LogListing {
  result: Record<string, { node_ip: string; files: LogFile[] }>;
  partial_failure_warning: string | null;
}
