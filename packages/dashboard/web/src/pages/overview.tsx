/**
 * Overview: the cluster's CPU, GPU, memory and object store (used of total), charts of the last hour
 * from the head's history, counts of nodes, jobs, actors and tasks by state, and recent failures.
 */
import { NODE_TIMEOUT_S, getJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { UsageBar } from '../components/usage_bar.js';
import { TimeChart } from '../components/time_chart.js';
import { StateBadge } from '../components/state_badge.js';
import { IdLink } from '../components/id_link.js';
import { amount, bytes, time } from '../format.js';
import { countBy, resourceTotals, storeTotals, taskStateCounts } from '../cluster_totals.js';
import type { ActorRow, HistoryReply, JobRow, ListReply, NodeRow, NodeStoreRow, SummaryReply, TaskRow } from '../types.js';

const RESOURCES = ['CPU', 'GPU', 'memory'] as const;
const ALL = { limit: 10000, detail: true };

async function load(signal: AbortSignal) {
  const [nodes, stores, jobs, actors, tasks, failedTasks, history] = await Promise.all([
    getJson<ListReply<NodeRow>>(`/api/v0/nodes${query(ALL)}`, signal),
    getJson<{ result: NodeStoreRow[] }>(`/api/v0/node_stats${query({ timeout: NODE_TIMEOUT_S })}`, signal),
    getJson<ListReply<JobRow>>(`/api/v0/jobs${query(ALL)}`, signal),
    getJson<ListReply<ActorRow>>(`/api/v0/actors${query({ limit: 10000 })}`, signal),
    getJson<SummaryReply>('/api/v0/tasks/summarize', signal),
    getJson<ListReply<TaskRow>>(`/api/v0/tasks${query({ filter: 'state=FAILED', limit: 5, detail: true })}`, signal),
    getJson<HistoryReply>('/api/v0/history', signal),
  ]);
  return { nodes: nodes.result, stores: stores.result, jobs: jobs.result, actors: actors.result, tasks, failedTasks: failedTasks.result, history };
}

type Data = Awaited<ReturnType<typeof load>>;

function Counts({ title, counts, id }: { title: string; counts: [string, number][]; id: string }) {
  return (
    <div class="card" data-testid={`counts-${id}`}>
      <h2>{title}</h2>
      {counts.length === 0 ? <p class="muted">none</p> : (
        <ul class="counts">{counts.map(([state, n]) => <li key={state}><StateBadge state={state} /> <span class="count">{n}</span></li>)}</ul>
      )}
    </div>
  );
}

function Failures({ data }: { data: Data }) {
  const deadNodes = data.nodes.filter((n) => n.state === 'DEAD').slice(-5);
  const failedJobs = data.jobs.filter((j) => j.status === 'FAILED').slice(-5);
  if (deadNodes.length + failedJobs.length + data.failedTasks.length === 0) return <p class="muted">No failures.</p>;
  return (
    <ul class="failures">
      {deadNodes.map((n) => <li key={n.node_id}>Node <IdLink page="nodes" id={n.node_id} /> ({n.node_ip}) died {time(n.end_time_ms)}: {n.state_message ?? n.death_cause ?? 'no reason given'}</li>)}
      {failedJobs.map((j) => <li key={j.submission_id ?? j.job_id}>Job <IdLink page="jobs" id={j.submission_id ?? j.job_id} /> failed: {j.message ?? j.error_type}</li>)}
      {data.failedTasks.map((t) => <li key={`${t.task_id}-${t.attempt_number}`}>Task <IdLink page="tasks" id={t.task_id} /> {t.name}: {t.error_type} {t.error_message?.split('\n')[0]}</li>)}
    </ul>
  );
}

function Charts({ history }: { history: HistoryReply }) {
  const times = history.samples.map((s) => s.timeMs);
  const chart = (resource: string, title: string, format: (n: number) => string) => (
    <TimeChart title={title} times={times} format={format} series={[
      { label: 'used', values: history.samples.map((s) => s.used[resource] ?? 0), color: '#2563eb' },
      { label: 'total', values: history.samples.map((s) => s.total[resource] ?? 0), color: '#9ca3af' },
    ]} />
  );
  return (
    <div class="charts">
      {chart('CPU', 'CPUs reserved', (n) => amount('CPU', n))}
      {chart('GPU', 'GPUs reserved', (n) => amount('GPU', n))}
      {chart('memory', 'Memory reserved', bytes)}
      {chart('object_store_memory', 'Object store memory reserved', bytes)}
    </div>
  );
}

export function OverviewPage() {
  const poll = usePoll(load, []);
  const data = poll.data;
  return (
    <Page title="Cluster overview" polls={[poll]}>
      {data && <OverviewBody data={data} />}
    </Page>
  );
}

function OverviewBody({ data }: { data: Data }) {
  const totals = resourceTotals(data.nodes, RESOURCES);
  const store = storeTotals(data.stores);
  const alive = data.nodes.filter((n) => n.state === 'ALIVE').length;
  return (
    <>
      <div class="cards">
        <div class="card"><h2>Nodes</h2><p class="big"><span data-testid="nodes-alive">{alive}</span> alive</p><p class="muted">{data.nodes.length - alive} dead</p></div>
        {RESOURCES.map((r) => (
          <div class="card" key={r}>
            <h2>{r}</h2>
            <UsageBar label={`${r} used`} used={totals.used[r]!} total={totals.total[r]!}
              text={`${amount(r, totals.used[r]!)} of ${amount(r, totals.total[r]!)}`} />
            <p class="muted">total <span data-testid={`total-${r}`}>{amount(r, totals.total[r]!)}</span></p>
          </div>
        ))}
        <div class="card">
          <h2>Object store</h2>
          <UsageBar label="object store used" used={store.used} total={store.capacity} text={`${bytes(store.used)} of ${bytes(store.capacity)}`} />
          <p class="muted">spilled {bytes(store.spilled)}</p>
        </div>
      </div>
      <Charts history={data.history} />
      <div class="cards">
        <Counts id="nodes" title="Nodes by state" counts={countBy(data.nodes, (n) => n.state)} />
        <Counts id="jobs" title="Jobs by status" counts={countBy(data.jobs, (j) => j.status)} />
        <Counts id="actors" title="Actors by state" counts={countBy(data.actors, (a) => a.state)} />
        <Counts id="tasks" title="Tasks by state" counts={taskStateCounts(data.tasks.groups)} />
      </div>
      <h2>Recent failures</h2>
      <Failures data={data} />
    </>
  );
}
