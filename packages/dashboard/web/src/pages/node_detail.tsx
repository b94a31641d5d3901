/** One node: its fields, its workers (pid, what they run, CPU, memory) and its log files. */
import { NODE_TIMEOUT_S, getJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { DataTable } from '../components/data_table.js';
import { Fields } from '../components/fields.js';
import { StateBadge } from '../components/state_badge.js';
import { href } from '../router.js';
import { bytes, time } from '../format.js';
import { resourceText } from './nodes.js';
import { IdLink } from '../components/id_link.js';
import type { ComponentChildren } from 'preact';
import type { ActorRow, ListReply, LogListing, NodeRow, TaskRow, WorkerRow } from '../types.js';

async function load(id: string, signal: AbortSignal) {
  const node = (await getJson<{ result: NodeRow[] }>(`/api/v0/nodes/${encodeURIComponent(id)}`, signal)).result[0]!;
  if (node.state !== 'ALIVE') return { node, workers: [] as WorkerRow[], logs: undefined, work: new Map<string, ComponentChildren>() };
  const onNode = `node_id=${id}`;
  const [workers, logs, actors, tasks] = await Promise.all([
    getJson<ListReply<WorkerRow>>(`/api/v0/workers${query({ filter: onNode, detail: true, limit: 10000, timeout: NODE_TIMEOUT_S })}`, signal),
    getJson<LogListing>(`/api/v0/logs${query({ node_id: id })}`, signal),
    getJson<ListReply<ActorRow>>(`/api/v0/actors${query({ filter: [onNode, 'state=ALIVE'], detail: true, limit: 10000 })}`, signal),
    getJson<ListReply<TaskRow>>(`/api/v0/tasks${query({ filter: [onNode, 'state=RUNNING'], limit: 10000 })}`, signal),
  ]);
  // What each worker runs: its actor, or the task running on it now.
  const work = new Map<string, ComponentChildren>();
  for (const t of tasks.result) if (t.worker_id && t.type === 'NORMAL_TASK') work.set(t.worker_id, <>task <IdLink page="tasks" id={t.task_id} label={`task ${t.name}`} /> {t.name}</>);
  for (const a of actors.result) if (a.worker_id) work.set(a.worker_id, <>actor <IdLink page="actors" id={a.actor_id} label={`actor ${a.class_name}`} /> {a.class_name}</>);
  return { node, workers: workers.result, logs: logs.result[id]?.files ?? [], work };
}

export function NodeDetailPage({ id }: { id: string }) {
  const poll = usePoll((signal) => load(id, signal), [id]);
  const d = poll.data;
  return (
    <Page title={`Node ${id}`} polls={[poll]}>
      {d && (
        <>
          <Fields items={[
            ['State', <StateBadge state={d.node.state} />], ['IP', d.node.node_ip], ['Name', d.node.node_name],
            ['Head node', d.node.is_head_node ? 'yes' : 'no'], ['CPU', resourceText(d.node, 'CPU')], ['GPU', resourceText(d.node, 'GPU')],
            ['Memory', resourceText(d.node, 'memory')], ['Started', time(d.node.start_time_ms)],
            ['Died', d.node.end_time_ms ? `${time(d.node.end_time_ms)}: ${d.node.state_message ?? ''}` : '—'],
          ]} />
          <h2>Workers</h2>
          {d.node.state !== 'ALIVE' ? <p class="muted">The node is dead: its workers and log files cannot be read.</p> : (
            <DataTable caption="Workers" rows={[...d.workers].reverse()} rowKey={(w) => w.worker_id} empty="No workers." columns={[
              { label: 'PID', render: (w) => w.pid, numeric: true },
              { label: 'Type', render: (w) => w.worker_type },
              { label: 'Alive', render: (w) => (w.is_alive ? 'yes' : `no (${w.exit_type ?? ''})`) },
              { label: 'Running', render: (w) => d.work.get(w.worker_id) ?? (w.is_alive && w.worker_type === 'WORKER' ? 'idle' : '—') },
              { label: 'CPU', render: (w) => (w.cpu_percent === null ? '—' : `${w.cpu_percent.toFixed(0)} %`), numeric: true },
              { label: 'Memory', render: (w) => bytes(w.rss_bytes), numeric: true },
              { label: 'Job', render: (w) => w.job_id ?? '—' },
              { label: 'Started', render: (w) => time(w.start_time_ms) },
              { label: 'Output', render: (w) => (w.worker_type === 'WORKER' ? <a href={href('logs', id, { file: `worker-${w.worker_id}-${w.pid}.out` })} aria-label={`output of worker ${w.pid}`}>log</a> : '—') },
            ]} />
          )}
          {d.logs && (
            <>
              <h2>Log files</h2>
              <DataTable caption="Log files" rows={d.logs} rowKey={(f) => f.name} columns={[
                { label: 'File', render: (f) => <a href={href('logs', id, { file: f.name })}>{f.name}</a> },
                { label: 'Size', render: (f) => bytes(f.size), numeric: true },
                { label: 'Modified', render: (f) => time(f.modified_ms) },
              ]} />
            </>
          )}
        </>
      )}
    </Page>
  );
}
