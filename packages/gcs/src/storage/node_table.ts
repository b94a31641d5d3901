/** Persistence of the node table. Every change is committed before the caller answers the raylet. */
import type { Db } from './database.js';
import type { ResourceMap } from '@rayts/common';

export type NodeStateName = 'NODE_ALIVE' | 'NODE_DEAD';
export type DeathCause = 'NODE_DEATH_EXPECTED' | 'NODE_DEATH_HEALTH_CHECK_FAILED' | 'NODE_DEATH_UNEXPECTED' | 'NODE_DEATH_RECONNECT_TIMEOUT';

export interface NodeRecord {
  nodeId: string;
  nodeIp: string;
  rayletPort: number;
  hostname: string;
  isHead: boolean;
  state: NodeStateName;
  resourcesTotal: ResourceMap;
  labels: Record<string, string>;
  startTimeMs: number;
  deathTimeMs: number;
  deathCause: DeathCause | '';
  deathReason: string;
  rayletPid: number;
  sessionName: string;
  version: string;
  /** The raylet's Prometheus endpoint port (0 = none). */
  metricsExportPort: number;
  /** The raylet's Node.js version; kept in memory only (a restarted head learns it again when the raylet re-registers). */
  nodeVersion?: string;
}

interface Row {
  node_id: string; node_ip: string; raylet_port: number; hostname: string; is_head: number; state: NodeStateName;
  resources_total: string; labels: string; start_time_ms: number; death_time_ms: number | null;
  death_cause: DeathCause | null; death_reason: string | null; raylet_pid: number; session_name: string; version: string;
  metrics_export_port: number;
}

function fromRow(r: Row): NodeRecord {
  return {
    nodeId: r.node_id, nodeIp: r.node_ip, rayletPort: r.raylet_port, hostname: r.hostname, isHead: r.is_head === 1,
    state: r.state, resourcesTotal: JSON.parse(r.resources_total) as ResourceMap, labels: JSON.parse(r.labels) as Record<string, string>,
    startTimeMs: r.start_time_ms, deathTimeMs: r.death_time_ms ?? 0, deathCause: r.death_cause ?? '', deathReason: r.death_reason ?? '',
    rayletPid: r.raylet_pid, sessionName: r.session_name, version: r.version, metricsExportPort: r.metrics_export_port,
  };
}

export class NodeTable {
  private readonly upsertStmt;
  private readonly deathStmt;
  private readonly pruneStmt;

  constructor(private readonly db: Db, private readonly deadNodesKept: number) {
    this.upsertStmt = db.prepare(`INSERT INTO nodes (node_id, node_ip, raylet_port, hostname, is_head, state, resources_total, labels,
        start_time_ms, death_time_ms, death_cause, death_reason, raylet_pid, session_name, version, metrics_export_port)
      VALUES (@nodeId, @nodeIp, @rayletPort, @hostname, @isHead, @state, @resourcesTotal, @labels, @startTimeMs, NULL, NULL, NULL,
        @rayletPid, @sessionName, @version, @metricsExportPort)
      ON CONFLICT (node_id) DO UPDATE SET node_ip = excluded.node_ip, raylet_port = excluded.raylet_port, state = excluded.state,
        resources_total = excluded.resources_total, labels = excluded.labels, raylet_pid = excluded.raylet_pid,
        metrics_export_port = excluded.metrics_export_port`);
    this.deathStmt = db.prepare(`UPDATE nodes SET state = 'NODE_DEAD', death_time_ms = ?, death_cause = ?, death_reason = ? WHERE node_id = ?`);
    this.pruneStmt = db.prepare(`DELETE FROM nodes WHERE state = 'NODE_DEAD' AND node_id NOT IN
      (SELECT node_id FROM nodes WHERE state = 'NODE_DEAD' ORDER BY death_time_ms DESC LIMIT ?)`);
  }

  all(): NodeRecord[] {
    return (this.db.prepare('SELECT * FROM nodes ORDER BY start_time_ms').all() as Row[]).map(fromRow);
  }

  upsertAlive(n: NodeRecord): void {
    this.upsertStmt.run({
      nodeId: n.nodeId, nodeIp: n.nodeIp, rayletPort: n.rayletPort, hostname: n.hostname, isHead: n.isHead ? 1 : 0,
      state: 'NODE_ALIVE', resourcesTotal: JSON.stringify(n.resourcesTotal), labels: JSON.stringify(n.labels),
      startTimeMs: n.startTimeMs, rayletPid: n.rayletPid, sessionName: n.sessionName, version: n.version, metricsExportPort: n.metricsExportPort,
    });
  }

  markDead(nodeId: string, timeMs: number, cause: DeathCause, reason: string): void {
    this.db.transaction(() => {
      this.deathStmt.run(timeMs, cause, reason, nodeId);
      this.pruneStmt.run(this.deadNodesKept);
    })();
  }
}
