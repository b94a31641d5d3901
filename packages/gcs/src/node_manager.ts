/**
 * Cluster membership and the cluster resource view the scheduler uses: who is alive, what each node
 * has in total and free, and what it could not schedule. SQLite holds the durable part (the table);
 * availability and demands are soft state rebuilt from the raylets' reports after a head restart.
 */
import { EventEmitter } from 'node:events';
import { TUNABLES, type Logger, type ResourceMap, type ResourceDemand__Output } from '@rayts/common';
import type { DeathCause, NodeRecord, NodeTable } from './storage/node_table.js';

export interface LiveNode {
  record: NodeRecord;
  /** The node's current total as it reports it (placement-group bundles add group resources). */
  total: ResourceMap;
  available: ResourceMap;
  demands: ResourceDemand__Output[];
  lastSeenMs: number;
  /** Loaded from the table at head start: the raylet must register again (and say what still runs there). */
  restored?: boolean;
}

export type RegisterOutcome =
  | { ok: true; reregistered: boolean }
  | { ok: false; reason: string };

export type ReportOutcome = 'ok' | 'unknown' | 'dead';

export class NodeManager extends EventEmitter<{ nodeDead: [NodeRecord]; nodeAdded: [NodeRecord] }> {
  private readonly nodes = new Map<string, LiveNode>();
  private readonly dead = new Map<string, NodeRecord>();

  constructor(private readonly table: NodeTable, private readonly logger: Logger, private readonly deadNodesKept = TUNABLES.deadNodesKept.default) {
    super();
    // After a head restart the nodes that were alive are assumed alive until health checks say
    // otherwise: their raylets keep running work and re-register.
    for (const record of table.all()) {
      if (record.state === 'NODE_ALIVE') {
        this.nodes.set(record.nodeId, { record, total: { ...record.resourcesTotal }, available: { ...record.resourcesTotal }, demands: [], lastSeenMs: Date.now(), restored: true });
      } else {
        this.dead.set(record.nodeId, record);
      }
    }
  }

  register(record: NodeRecord): RegisterOutcome {
    const deadRecord = this.dead.get(record.nodeId);
    if (deadRecord) {
      return { ok: false, reason: `node ${record.nodeId} was declared dead (${deadRecord.deathReason}); restart the raylet so it joins as a new node` };
    }
    // A new incarnation at the address of a live node means the old raylet is gone (Ray PR #30841).
    for (const other of this.nodes.values()) {
      const o = other.record;
      if (o.nodeId !== record.nodeId && o.nodeIp === record.nodeIp && o.rayletPort === record.rayletPort) {
        this.markDead(o.nodeId, 'NODE_DEATH_UNEXPECTED', `replaced by a new raylet at ${o.nodeIp}:${o.rayletPort}`);
      }
    }
    const existing = this.nodes.get(record.nodeId);
    const merged: NodeRecord = existing ? { ...record, startTimeMs: existing.record.startTimeMs } : record;
    this.table.upsertAlive(merged);
    this.nodes.set(record.nodeId, {
      record: merged,
      total: existing?.total ?? { ...record.resourcesTotal },
      available: existing?.available ?? { ...record.resourcesTotal },
      demands: existing?.demands ?? [],
      lastSeenMs: Date.now(),
    });
    this.logger.info(existing ? 'node re-registered' : 'node registered', {
      nodeId: record.nodeId, address: `${record.nodeIp}:${record.rayletPort}`, resources: record.resourcesTotal,
    });
    if (!existing) this.emit('nodeAdded', merged);
    return { ok: true, reregistered: !!existing };
  }

  report(nodeId: string, available: ResourceMap, demands: ResourceDemand__Output[], total?: ResourceMap): ReportOutcome {
    const live = this.nodes.get(nodeId);
    if (!live) return this.dead.has(nodeId) ? 'dead' : 'unknown';
    if (live.restored) return 'unknown';
    live.available = available;
    // Raylets older than the total field send none: keep the registered total then.
    if (total && Object.keys(total).length > 0) live.total = total;
    live.demands = demands;
    live.lastSeenMs = Date.now();
    return 'ok';
  }

  /** A raylet's exact resources from a bundle reservation reply, ahead of its next report. */
  /** A raylet's ordinary resources after a bundle step; its placement-group resources stay as last reported. */
  updateResources(nodeId: string, total: ResourceMap, available: ResourceMap): void {
    const live = this.nodes.get(nodeId);
    if (!live) return;
    Object.assign(live.total, total);
    Object.assign(live.available, available);
  }

  /**
   * Bundles were committed (+1) or returned (-1) on the node: its group resources change at once in
   * the head's view (the raylet's next report would also bring them), so that `clusterResources()`
   * right after `removePlacementGroup` no longer lists them.
   */
  shiftGroupResources(nodeId: string, delta: ResourceMap, sign: 1 | -1): void {
    const live = this.nodes.get(nodeId);
    if (!live) return;
    for (const map of [live.total, live.available]) {
      for (const [k, v] of Object.entries(delta)) {
        const next = (map[k] ?? 0) + sign * v;
        if (next > 1e-9) map[k] = next;
        else delete map[k];
      }
    }
  }

  touch(nodeId: string): void {
    const live = this.nodes.get(nodeId);
    if (live) live.lastSeenMs = Date.now();
  }

  markDead(nodeId: string, cause: DeathCause, reason: string): void {
    const live = this.nodes.get(nodeId);
    if (!live) return;
    const now = Date.now();
    // Written first: on a full state disk this throws StateDiskFullError and nothing changed.
    this.table.markDead(nodeId, now, cause, reason);
    this.nodes.delete(nodeId);
    const record: NodeRecord = { ...live.record, state: 'NODE_DEAD', deathTimeMs: now, deathCause: cause, deathReason: reason };
    this.dead.set(nodeId, record);
    // Same bound as the table: the oldest dead node is forgotten (Map keeps insertion order).
    while (this.dead.size > this.deadNodesKept) this.dead.delete(this.dead.keys().next().value!);
    this.logger.warn('node marked dead', { nodeId, address: `${record.nodeIp}:${record.rayletPort}`, cause, reason });
    this.emit('nodeDead', record);
  }

  deathReason(nodeId: string): string {
    return this.dead.get(nodeId)?.deathReason ?? '';
  }

  alive(): LiveNode[] {
    return [...this.nodes.values()];
  }

  get(nodeId: string): LiveNode | undefined {
    return this.nodes.get(nodeId);
  }

  /** Dead nodes, most recent first. */
  deadNodes(limit: number): NodeRecord[] {
    return [...this.dead.values()].sort((a, b) => b.deathTimeMs - a.deathTimeMs).slice(0, limit);
  }

  /** Demands of every node, merged by shape. */
  pendingDemands(): ResourceDemand__Output[] {
    const merged = new Map<string, ResourceDemand__Output>();
    for (const node of this.nodes.values()) {
      for (const d of node.demands) {
        const key = JSON.stringify([d.kind, d.strategy, Object.entries(d.shape).sort()]);
        const prev = merged.get(key);
        if (prev) prev.count += d.count;
        else merged.set(key, { ...d, shape: { ...d.shape } });
      }
    }
    return [...merged.values()];
  }
}
