/** Logs: pick a node, then one of its files; the file's last lines are shown and followed. */
import { getJson, getText, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { DataTable } from '../components/data_table.js';
import { LogView } from '../components/log_view.js';
import { href } from '../router.js';
import { bytes, shortId, time } from '../format.js';
import type { ListReply, LogListing, NodeRow } from '../types.js';

function FileList({ nodeId }: { nodeId: string }) {
  const poll = usePoll((signal) => getJson<LogListing>(`/api/v0/logs${query({ node_id: nodeId })}`, signal), [nodeId]);
  return (
    <Page title={`Log files of node ${shortId(nodeId, 12)}`} polls={[poll]}>
      {poll.data && (
        <DataTable caption="Log files" rows={poll.data.result[nodeId]?.files ?? []} rowKey={(f) => f.name} columns={[
          { label: 'File', render: (f) => <a href={href('logs', nodeId, { file: f.name })}>{f.name}</a> },
          { label: 'Size', render: (f) => bytes(f.size), numeric: true },
          { label: 'Modified', render: (f) => time(f.modified_ms) },
        ]} />
      )}
    </Page>
  );
}

function NodeList() {
  const poll = usePoll((signal) => getJson<ListReply<NodeRow>>(`/api/v0/nodes${query({ limit: 10000, filter: 'state=ALIVE' })}`, signal), []);
  return (
    <Page title="Logs" polls={[poll]}>
      <p>Choose a node to see its log files.</p>
      {poll.data && (
        <ul class="plain">{poll.data.result.map((n) => (
          <li key={n.node_id}><a href={href('logs', n.node_id)}>{n.node_ip}{n.is_head_node ? ' (head)' : ''} — {shortId(n.node_id, 12)}</a></li>
        ))}</ul>
      )}
    </Page>
  );
}

export function LogsPage({ nodeId, file }: { nodeId: string | undefined; file: string | null }) {
  if (!nodeId) return <NodeList />;
  if (!file) return <FileList nodeId={nodeId} />;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{file}</h1>
      <p><a href={href('logs', nodeId)}>All files of node {shortId(nodeId, 12)}</a></p>
      <LogView label={`log file ${file}`} deps={[nodeId, file]}
        fetchText={(signal) => getText(`/api/v0/logs/file${query({ node_id: nodeId, filename: file, lines: 1000 })}`, signal)} />
    </section>
  );
}
