/** One actor: its fields and the output of its current worker (standard output and error). */
import { getText, getJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { Fields } from '../components/fields.js';
import { StateBadge } from '../components/state_badge.js';
import { LogView } from '../components/log_view.js';
import { IdLink } from '../components/id_link.js';
import type { ActorRow } from '../types.js';

function workerLog(a: ActorRow, ext: 'out' | 'err') {
  return (signal: AbortSignal) => getText(`/api/v0/logs/file${query({ node_id: a.node_id!, filename: `worker-${a.worker_id}-${a.pid}.${ext}`, lines: 1000 })}`, signal);
}

export function ActorDetailPage({ id }: { id: string }) {
  const poll = usePoll(async (signal) => (await getJson<{ result: ActorRow[] }>(`/api/v0/actors/${encodeURIComponent(id)}`, signal)).result[0]!, [id]);
  const a = poll.data;
  return (
    <Page title={`Actor ${id}`} polls={[poll]}>
      {a && (
        <>
          <Fields items={[
            ['State', <StateBadge state={a.state} />], ['Class', a.class_name], ['Name', a.name || '—'], ['Namespace', a.ray_namespace],
            ['Job', a.job_id], ['Node', <IdLink page="nodes" id={a.node_id} />], ['PID', a.pid],
            ['Restarts', <span data-testid="actor-restarts">{a.num_restarts}</span>], ['Max restarts', a.max_restarts],
            ['Death cause', a.death_cause], ['Death message', a.death_message],
          ]} />
          {a.node_id && a.worker_id && a.pid ? (
            <>
              <h2>Standard output</h2>
              <LogView label="actor standard output" deps={[a.worker_id]} fetchText={workerLog(a, 'out')} />
              <h2>Standard error</h2>
              <LogView label="actor standard error" deps={[a.worker_id]} fetchText={workerLog(a, 'err')} />
            </>
          ) : <p class="muted">The actor has no worker now: no output to show.</p>}
        </>
      )}
    </Page>
  );
}
