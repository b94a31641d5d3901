/** Objects (the `rayts memory` view): the summary by call site, then every reference. */
import { NODE_TIMEOUT_S, getJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { DataTable } from '../components/data_table.js';
import { bytes, shortId } from '../format.js';
import type { ListReply } from '../types.js';

interface ObjectRow {
  object_id: string;
  object_size: number | null;
  task_status: string | null;
  reference_type: string;
  call_site: string | null;
  type: string;
  pid: number;
  ip: string;
}

interface ObjectGroup {
  call_site?: string;
  total_objects?: number;
  total_size_mb?: number;
  [key: string]: unknown;
}

async function load(signal: AbortSignal) {
  const [objects, summary] = await Promise.all([
    getJson<ListReply<ObjectRow>>(`/api/v0/objects${query({ limit: 1000, detail: true, timeout: NODE_TIMEOUT_S })}`, signal),
    getJson<{ groups: ObjectGroup[]; partial_failure_warning: string | null }>(`/api/v0/objects/summarize${query({ timeout: NODE_TIMEOUT_S })}`, signal),
  ]);
  return { objects, summary };
}

export function ObjectsPage() {
  const poll = usePoll(load, []);
  const d = poll.data;
  const total = d ? d.objects.result.reduce((n, o) => n + (o.object_size ?? 0), 0) : 0;
  return (
    <Page title="Objects" polls={[poll]}>
      {d && (
        <>
          {d.objects.partial_failure_warning && <p class="banner" role="alert">{d.objects.partial_failure_warning}</p>}
          <p>{d.objects.num_filtered} references, {bytes(total)} in all.</p>
          <h2>By call site</h2>
          <DataTable caption="Objects by call site" rows={d.summary.groups} rowKey={(g) => String(g.call_site)} empty="No objects." columns={[
            { label: 'Call site', render: (g) => <code>{String(g.call_site ?? '—')}</code> },
            { label: 'Objects', render: (g) => String(g.total_objects ?? '—'), numeric: true },
            { label: 'Size', render: (g) => bytes((g.total_size_mb ?? 0) * 1024 * 1024), numeric: true },
          ]} />
          <h2>References</h2>
          <DataTable caption="Object references" rows={d.objects.result} rowKey={(o) => `${o.object_id}-${o.pid}-${o.reference_type}`} empty="No object references." columns={[
            { label: 'Object', render: (o) => <span title={o.object_id}>{shortId(o.object_id, 16)}</span> },
            { label: 'Size', render: (o) => bytes(o.object_size), numeric: true },
            { label: 'Reference', render: (o) => o.reference_type },
            { label: 'Status', render: (o) => o.task_status ?? '—' },
            { label: 'Holder', render: (o) => `${o.type} pid ${o.pid} on ${o.ip}` },
            { label: 'Call site', render: (o) => <code>{o.call_site ?? '—'}</code> },
          ]} />
        </>
      )}
    </Page>
  );
}
