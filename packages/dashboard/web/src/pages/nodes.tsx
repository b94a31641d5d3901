/** Nodes: state, IP, resources used of total, memory, object-store bar and spilled bytes per node. */
import { NODE_TIMEOUT_S, getJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { DataTable } from '../components/data_table.js';
import { StateBadge } from '../components/state_badge.js';
import { UsageBar } from '../components/usage_bar.js';
import { IdLink } from '../components/id_link.js';
import { amount, bytes, used } from '../format.js';
import type { ListReply, NodeRow, NodeStoreRow } from '../types.js';

async function load(signal: AbortSignal) {
  const [nodes, stores] = await Promise.all([
    getJson<ListReply<NodeRow>>(`/api/v0/nodes${query({ limit: 10000, detail: true })}`, signal),
    getJson<{ result: NodeStoreRow[] }>(`/api/v0/node_stats${query({ timeout: NODE_TIMEOUT_S })}`, signal),
  ]);
  return { nodes: nodes.result, stores: new Map(stores.result.map((s) => [s.node_id, s])) };
}

export function resourceText(n: NodeRow, r: string): string {
  return `${amount(r, used(n.resources_total, n.resources_available, r))} / ${amount(r, n.resources_total[r] ?? 0)}`;
}

export function NodesPage() {
  const poll = usePoll(load, []);
  const d = poll.data;
  return (
    <Page title="Nodes" polls={[poll]}>
      {d && (
        <DataTable caption="Nodes" rows={d.nodes} rowKey={(n) => n.node_id} columns={[
          { label: 'Node', render: (n) => <IdLink page="nodes" id={n.node_id} label={`node ${n.node_ip} ${n.node_id}`} /> },
          { label: 'State', render: (n) => <span data-testid={`node-state-${n.node_ip}`}><StateBadge state={n.state} /></span> },
          { label: 'IP', render: (n) => <>{n.node_ip}{n.is_head_node ? ' (head)' : ''}</> },
          { label: 'CPU', render: (n) => resourceText(n, 'CPU'), numeric: true },
          { label: 'GPU', render: (n) => resourceText(n, 'GPU'), numeric: true },
          { label: 'Host CPU', render: (n) => {
            const s = d.stores.get(n.node_id);
            return s ? <UsageBar label={`CPU use of ${n.node_ip}`} used={s.cpu_percent} total={100} text={`${s.cpu_percent.toFixed(0)} % of ${s.num_cpus}`} /> : '—';
          } },
          { label: 'Host memory', render: (n) => {
            const s = d.stores.get(n.node_id);
            return s ? <UsageBar label={`memory use of ${n.node_ip}`} used={s.memory_used_bytes} total={s.memory_total_bytes}
              text={`${bytes(s.memory_used_bytes)} / ${bytes(s.memory_total_bytes)}`} /> : '—';
          } },
          { label: 'Memory (reserved)', render: (n) => resourceText(n, 'memory'), numeric: true },
          { label: 'Object store', render: (n) => {
            const s = d.stores.get(n.node_id);
            return s ? <UsageBar label={`object store of ${n.node_ip}`} used={s.store_used_bytes} total={s.store_capacity_bytes}
              text={`${bytes(s.store_used_bytes)} / ${bytes(s.store_capacity_bytes)}`} /> : '—';
          } },
          { label: 'Spilled', render: (n) => bytes(d.stores.get(n.node_id)?.spilled_bytes_now), numeric: true },
          { label: 'Workers', render: (n) => d.stores.get(n.node_id)?.workers_alive ?? '—', numeric: true },
        ]} />
      )}
    </Page>
  );
}
