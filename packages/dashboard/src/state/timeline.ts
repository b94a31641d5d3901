/**
 * The task timeline as a Chrome trace (the format chrome://tracing and Perfetto load; Ray's
 * `ray timeline`): one complete event ("ph": "X") per task execution, from RUNNING to its end, with
 * pid = the node and tid = the worker that ran it, and metadata events naming both. Drivers are not
 * task executions and are left out, as in Ray's.
 */
import type { TaskAttempt } from '@rayts/gcs';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  cname?: string;
  args: Record<string, unknown>;
}

export function chromeTrace(attempts: Iterable<TaskAttempt>, nodeIps: ReadonlyMap<string, string>): TraceEvent[] {
  const ran = [...attempts].filter((a) => a.type !== 'DRIVER_TASK' && a.startTimeMs !== undefined && a.endTimeMs !== undefined && a.nodeId && a.workerId);
  ran.sort((a, b) => a.startTimeMs! - b.startTimeMs!);
  const nodes = new Map<string, number>();
  const workers = new Map<string, { pid: number; tid: number }>();
  const meta: TraceEvent[] = [];
  const events: TraceEvent[] = [];
  for (const a of ran) {
    let pid = nodes.get(a.nodeId!);
    if (pid === undefined) {
      nodes.set(a.nodeId!, pid = nodes.size + 1);
      meta.push({ name: 'process_name', ph: 'M', pid, args: { name: `Node ${nodeIps.get(a.nodeId!) ?? a.nodeId}` } });
      meta.push({ name: 'process_sort_index', ph: 'M', pid, args: { sort_index: pid } });
    }
    const key = `${a.nodeId}/${a.workerId}`;
    let w = workers.get(key);
    if (!w) {
      const tid = [...workers.values()].filter((x) => x.pid === pid).length + 1;
      workers.set(key, w = { pid, tid });
      meta.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: `worker:${a.workerId}` } });
    }
    events.push({
      cat: a.type === 'ACTOR_TASK' ? 'actor_task' : a.type === 'ACTOR_CREATION_TASK' ? 'actor_creation_task' : 'task',
      name: a.funcOrClassName,
      ph: 'X',
      pid: w.pid,
      tid: w.tid,
      ts: a.startTimeMs! * 1000,
      dur: Math.max(0, a.endTimeMs! - a.startTimeMs!) * 1000,
      cname: a.state === 'FAILED' ? 'terrible' : 'generic_work',
      args: {
        task_id: a.taskId, job_id: a.jobId, attempt_number: a.attemptNumber, func_or_class_name: a.funcOrClassName,
        actor_id: a.actorId ?? null, state: a.state, node_id: a.nodeId, worker_id: a.workerId, worker_pid: a.workerPid ?? null,
        error_type: a.errorType ?? null,
      },
    });
  }
  return [...meta, ...events];
}
