/** One task: each attempt with its node, worker, state history, error (type and message) and what it printed. */
import { getJson, getText, query } from '../api.js';
import { LogView } from '../components/log_view.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { Fields } from '../components/fields.js';
import { StateBadge } from '../components/state_badge.js';
import { IdLink } from '../components/id_link.js';
import { duration, time } from '../format.js';
import type { TaskRow } from '../types.js';

function Attempt({ t }: { t: TaskRow }) {
  return (
    <article class="card attempt" aria-label={`attempt ${t.attempt_number}`}>
      <h2>Attempt {t.attempt_number} <StateBadge state={t.state} /></h2>
      <Fields items={[
        ['Name', t.name], ['Function', t.func_or_class_name], ['Type', t.type], ['Job', t.job_id],
        ['Actor', <IdLink page="actors" id={t.actor_id} />], ['Node', <IdLink page="nodes" id={t.node_id} />],
        ['Worker', t.worker_id], ['Worker PID', t.worker_pid], ['Created', time(t.creation_time_ms)],
        ['Ran for', t.start_time_ms ? duration((t.end_time_ms ?? Date.now()) - t.start_time_ms) : '—'],
      ]} />
      {t.error_type && (
        <div class="error-box">
          <h3>Error: <span data-testid="error-type">{t.error_type}</span></h3>
          <pre data-testid="error-message" tabIndex={0}>{t.error_message ?? '(no message)'}</pre>
        </div>
      )}
      {t.task_log_info && t.node_id && <AttemptOutput t={t} />}
      <details>
        <summary>State changes</summary>
        <ol>{t.events.map((e) => <li key={`${e.state}-${e.created_ms}`}>{time(e.created_ms)} {e.state}</li>)}</ol>
      </details>
    </article>
  );
}

/** What the attempt printed: exactly its byte range of its worker's output files (to now while it runs). */
function AttemptOutput({ t }: { t: TaskRow }) {
  const info = t.task_log_info!;
  const range = (file: string, start: number, end: number) => (signal: AbortSignal) =>
    getText(`/api/v0/logs/file${query({ node_id: t.node_id!, filename: file, start, end: end > 0 ? end : undefined })}`, signal);
  return (
    <>
      <h3>Standard output</h3>
      <LogView label={`output of attempt ${t.attempt_number}`} deps={[t.task_id, t.attempt_number, info.stdout_end]}
        fetchText={range(info.stdout_file, info.stdout_start, info.stdout_end)} />
      <h3>Standard error</h3>
      <LogView label={`error output of attempt ${t.attempt_number}`} deps={[t.task_id, t.attempt_number, info.stderr_end]}
        fetchText={range(info.stderr_file, info.stderr_start, info.stderr_end)} />
    </>
  );
}

/**
 * Its attempts come from the list route filtered by the id, not `/api/v0/tasks/<id>`: a task whose
 * events have not reached the head yet (they do within a report interval) is then an empty answer
 * that the page polls through, not a 404 the browser logs as an error.
 */
export function TaskDetailPage({ id }: { id: string }) {
  const poll = usePoll(async (signal) =>
    (await getJson<{ result: TaskRow[] }>(`/api/v0/tasks${query({ filter: `task_id=${id}`, detail: true, limit: 1000 })}`, signal)).result, [id]);
  return (
    <Page title={`Task ${id}`} polls={[poll]}>
      {poll.data?.length === 0 && <p class="muted">No events of this task have reached the head yet; they arrive within a second of each change.</p>}
      {poll.data && [...poll.data].sort((a, b) => b.attempt_number - a.attempt_number).map((t) => <Attempt key={t.attempt_number} t={t} />)}
    </Page>
  );
}
