/** Tasks: the summary by function and state, then every attempt, filtered by state and name. */
import { useState } from 'preact/hooks';
import { getJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { DataTable } from '../components/data_table.js';
import { StateBadge } from '../components/state_badge.js';
import { IdLink } from '../components/id_link.js';
import type { ListReply, SummaryReply, TaskRow } from '../types.js';

const LIMIT = 1000;

async function load(signal: AbortSignal) {
  const [summary, tasks] = await Promise.all([
    getJson<SummaryReply>('/api/v0/tasks/summarize', signal),
    getJson<ListReply<TaskRow>>(`/api/v0/tasks${query({ limit: LIMIT, detail: true })}`, signal),
  ]);
  return { summary, tasks };
}

export function TasksPage() {
  const poll = usePoll(load, []);
  const [state, setState] = useState('');
  const [text, setText] = useState('');
  const d = poll.data;
  const states = d ? [...new Set(d.tasks.result.map((t) => t.state))].sort() : [];
  const needle = text.trim().toLowerCase();
  const rows = d ? d.tasks.result.filter((t) => (!state || t.state === state)
    && (!needle || `${t.name} ${t.func_or_class_name} ${t.task_id} ${t.error_type ?? ''}`.toLowerCase().includes(needle))) : [];
  return (
    <Page title="Tasks" polls={[poll]}>
      {d && (
        <>
          <h2>By function</h2>
          <DataTable caption="Task summary" rows={d.summary.groups} rowKey={(g) => `${g.func_or_class_name}-${g.type}`} empty="No tasks yet." columns={[
            { label: 'Function', render: (g) => g.func_or_class_name },
            { label: 'Type', render: (g) => g.type },
            { label: 'States', render: (g) => Object.entries(g.state_counts).map(([s, n]) => <span key={s} class="pair"><StateBadge state={s} /> {n}</span>) },
          ]} />
          <h2>Attempts</h2>
          <div class="filters" role="search" aria-label="filter tasks">
            <label>State <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
              <option value="">any</option>{states.map((s) => <option key={s} value={s}>{s}</option>)}
            </select></label>
            <label>Name or id <input type="search" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} /></label>
            <span class="muted">{rows.length} of {d.tasks.num_filtered}{d.tasks.num_filtered > LIMIT ? ` (newest ${LIMIT} shown)` : ''}</span>
          </div>
          <DataTable caption="Task attempts" rows={rows} rowKey={(t) => `${t.task_id}-${t.attempt_number}`} empty="No task matches." columns={[
            { label: 'Task', render: (t) => <IdLink page="tasks" id={t.task_id} label={`task ${t.name} ${t.task_id}`} /> },
            { label: 'Attempt', render: (t) => t.attempt_number, numeric: true },
            { label: 'Name', render: (t) => t.name },
            { label: 'State', render: (t) => <StateBadge state={t.state} /> },
            { label: 'Type', render: (t) => t.type },
            { label: 'Node', render: (t) => <IdLink page="nodes" id={t.node_id} /> },
            { label: 'PID', render: (t) => t.worker_pid ?? '—', numeric: true },
            { label: 'Error', render: (t) => t.error_type ?? '' },
          ]} />
        </>
      )}
    </Page>
  );
}
