/** Placement groups: state, strategy and each bundle's node and resources. */
import { getJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { DataTable } from '../components/data_table.js';
import { StateBadge } from '../components/state_badge.js';
import { IdLink } from '../components/id_link.js';
import { shortId } from '../format.js';
import type { ListReply } from '../types.js';

interface PgRow {
  placement_group_id: string;
  name: string;
  creator_job_id: string;
  state: string;
  strategy: string;
  is_detached: boolean;
  bundles: { bundle_index: number; node_id: string | null; unit_resources: Record<string, number> }[];
  pending_reason: string | null;
}

export function PlacementGroupsPage() {
  const poll = usePoll((signal) => getJson<ListReply<PgRow>>(`/api/v0/placement_groups${query({ limit: 10000, detail: true })}`, signal), []);
  return (
    <Page title="Placement groups" polls={[poll]}>
      {poll.data && (
        <DataTable caption="Placement groups" rows={poll.data.result} rowKey={(p) => p.placement_group_id} empty="No placement groups." columns={[
          { label: 'Id', render: (p) => <span title={p.placement_group_id}>{shortId(p.placement_group_id, 12)}</span> },
          { label: 'Name', render: (p) => p.name || '—' },
          { label: 'State', render: (p) => <StateBadge state={p.state} /> },
          { label: 'Strategy', render: (p) => p.strategy },
          { label: 'Job', render: (p) => p.creator_job_id },
          { label: 'Bundles', render: (p) => (
            <ul class="plain">{p.bundles.map((b) => (
              <li key={b.bundle_index}>#{b.bundle_index} {Object.entries(b.unit_resources).map(([k, v]) => `${k}: ${v}`).join(', ')} on <IdLink page="nodes" id={b.node_id} /></li>
            ))}</ul>
          ) },
          { label: 'Pending because', render: (p) => p.pending_reason ?? '' },
        ]} />
      )}
    </Page>
  );
}
