/** Actors: state, class, name, node, pid and restarts. */
import { getJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { DataTable } from '../components/data_table.js';
import { StateBadge } from '../components/state_badge.js';
import { IdLink } from '../components/id_link.js';
import type { ActorRow, ListReply } from '../types.js';

export function ActorsPage() {
  const poll = usePoll((signal) => getJson<ListReply<ActorRow>>(`/api/v0/actors${query({ limit: 10000, detail: true })}`, signal), []);
  return (
    <Page title="Actors" polls={[poll]}>
      {poll.data && (
        <DataTable caption="Actors" rows={poll.data.result} rowKey={(a) => a.actor_id} empty="No actors." columns={[
          { label: 'Actor', render: (a) => <IdLink page="actors" id={a.actor_id} label={`actor ${a.class_name} ${a.actor_id}`} /> },
          { label: 'State', render: (a) => <StateBadge state={a.state} /> },
          { label: 'Class', render: (a) => a.class_name },
          { label: 'Name', render: (a) => a.name || '—' },
          { label: 'Node', render: (a) => <IdLink page="nodes" id={a.node_id} /> },
          { label: 'PID', render: (a) => a.pid ?? '—', numeric: true },
          { label: 'Restarts', render: (a) => <span data-testid={`restarts-${a.actor_id}`}>{a.num_restarts}</span>, numeric: true },
        ]} />
      )}
    </Page>
  );
}
