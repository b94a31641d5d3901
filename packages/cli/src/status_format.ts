/**
 * `rayts status` in `ray status`'s shape: Node status (Active / Pending /
 * Recent failures: dead nodes, and workers the memory monitors killed), Resources (Total Usage as used/total name, binary units for memory), Pending
 * Demands. The JSON form carries the same numbers.
 */
import {
  addResources, formatAmount, formatBytes, formatTimestamp, isHiddenResource, isMemoryResource, parseGroupResource,
  type ClusterStatus__Output, type NodeInfo__Output, type ResourceDemand__Output,
} from '@rayts/common';
import type { OomKillRow } from './oom_kills.js';

export interface UsageRow {
  name: string;
  used: number;
  total: number;
  /** Of the resource reserved by placement groups: how much their tasks use, and the reservation. */
  placementGroups?: { used: number; reserved: number };
}

export interface StatusView {
  clusterId: string;
  sessionName: string;
  gcsAddress: string;
  timestamp: string;
  active: NodeInfo__Output[];
  failed: NodeInfo__Output[];
  usage: UsageRow[];
  demands: ResourceDemand__Output[];
  /** Workers the memory monitors killed, newest first. */
  oomKills: OomKillRow[];
}

export function buildStatusView(status: ClusterStatus__Output, now = new Date(), oomKills: OomKillRow[] = []): StatusView {
  const active = status.nodes.filter((n) => n.state === 'NODE_ALIVE');
  const failed = status.nodes.filter((n) => n.state === 'NODE_DEAD' && n.deathCause !== 'NODE_DEATH_EXPECTED');
  const total: Record<string, number> = {};
  const available: Record<string, number> = {};
  for (const n of active) {
    addResources(total, n.resourcesTotal);
    addResources(available, n.resourcesAvailable);
  }
  const usage = usageRows(total, available);
  return {
    clusterId: status.cluster?.clusterId ?? '', sessionName: status.cluster?.sessionName ?? '', gcsAddress: status.cluster?.gcsAddress ?? '',
    timestamp: formatTimestamp(now), active, failed, usage, demands: status.pendingDemands, oomKills,
  };
}

/**
 * Rows of Total Usage, folded as Ray does: group resources (`CPU_group_<pg>`) are not rows; a
 * reservation counts as used only as far as the group's tasks use it, and the row says so:
 * `3.0/8.0 CPU (2.0 used of 4.0 reserved in placement groups)`. Only the group-wide names count
 * (the per-bundle ones repeat them).
 */
export function usageRows(total: Record<string, number>, available: Record<string, number>): UsageRow[] {
  const reserved: Record<string, { used: number; reserved: number }> = {};
  for (const name of Object.keys(total)) {
    const group = parseGroupResource(name);
    if (!group || group.bundleIndex !== undefined) continue;
    const r = (reserved[group.resource] ??= { used: 0, reserved: 0 });
    r.reserved += total[name]!;
    r.used += Math.max(0, total[name]! - (available[name] ?? total[name]!));
  }
  return Object.keys(total)
    .filter((name) => !isHiddenResource(name))
    .sort()
    .map((name) => {
      const used = Math.max(0, total[name]! - (available[name] ?? total[name]!));
      const pg = reserved[name];
      return pg ? { name, total: total[name]!, used: Math.max(0, used - pg.reserved + pg.used), placementGroups: pg } : { name, total: total[name]!, used };
    });
}

function usageLine(row: UsageRow): string {
  const fmt = isMemoryResource(row.name) ? formatBytes : formatAmount;
  const pg = row.placementGroups ? ` (${fmt(row.placementGroups.used)} used of ${fmt(row.placementGroups.reserved)} reserved in placement groups)` : '';
  return ` ${fmt(row.used)}/${fmt(row.total)} ${row.name}${pg}`;
}

/** {'CPU': 1.0, 'ssd': 1.0}: Python's dict repr, as Ray prints demand shapes. */
function shapeRepr(shape: Record<string, number>): string {
  return `{${Object.keys(shape).sort().map((k) => `'${k}': ${formatAmount(shape[k]!)}`).join(', ')}}`;
}

const INFEASIBLE = ' (infeasible: no node has these resources)';

function demandLine(d: ResourceDemand__Output): string {
  if (d.kind === 'placement_group') {
    // Ray's format_pg: every distinct bundle with its count, then the strategy.
    const bundles = (d.bundles ?? []).map((b) => `${shapeRepr(b.shape)} * ${b.count}`).join(', ') || shapeRepr(d.shape);
    return ` ${bundles}${d.strategy ? ` (${d.strategy})` : ''}: ${d.count}+ pending placement groups${d.infeasible ? INFEASIBLE : ''}`;
  }
  return ` ${shapeRepr(d.shape)}: ${d.count}+ pending tasks/actors${d.infeasible ? INFEASIBLE : ''}`;
}

function nodeName(n: NodeInfo__Output): string {
  return `node_${n.nodeId}`;
}

function clock(ms: number): string {
  return formatTimestamp(new Date(ms), false).slice(11);
}

/** ` node_<id>: OutOfMemory (ip: …) at 12:00:01: worker pid 123 running task f (task …, attempt 0) killed by the memory monitor at 22.90GiB / 23.50GiB used (threshold 0.95)` */
function oomLine(k: OomKillRow, ip: string): string {
  const at = k.timeMs ? ` at ${clock(k.timeMs)}` : '';
  const memory = k.memory ? ` at ${k.memory} used${k.threshold ? ` (threshold ${k.threshold})` : ''}` : '';
  return ` node_${k.nodeId}: OutOfMemory (ip: ${ip})${at}: worker pid ${k.workerPid} running task ${k.taskName} (task ${k.taskId}, attempt ${k.attempt}) killed by the memory monitor${memory}`;
}

export function renderStatus(view: StatusView, verbose: boolean): string {
  const header = `======== Cluster status: ${view.timestamp} ========`;
  const rule = '-'.repeat(header.length);
  const out: string[] = [header];
  if (verbose) out.push(`Cluster ${view.clusterId} (${view.sessionName}) at ${view.gcsAddress}`);
  out.push('Node status', rule, 'Active:');
  if (view.active.length === 0) out.push(' (no active nodes)');
  for (const n of view.active) out.push(` 1 ${nodeName(n)}${verbose ? ` (ip: ${n.nodeIp}${n.isHead ? ', head' : ''})` : ''}`);
  out.push('Pending:', ' (no pending nodes)', 'Recent failures:');
  if (view.failed.length === 0 && view.oomKills.length === 0) out.push(' (no failures)');
  for (const n of view.failed) {
    out.push(` ${nodeName(n)}: NodeTerminated (ip: ${n.nodeIp}) at ${clock(Number(n.deathTimeMs))}: ${n.deathReason}`);
  }
  const ipOf = new Map([...view.active, ...view.failed].map((n) => [n.nodeId, n.nodeIp]));
  for (const k of view.oomKills) out.push(oomLine(k, ipOf.get(k.nodeId) ?? '?'));
  out.push('', 'Resources', rule, 'Total Usage:');
  if (view.usage.length === 0) out.push(' (no resources)');
  for (const row of view.usage) out.push(usageLine(row));
  out.push('', 'From request_resources:', ' (none)', 'Pending Demands:');
  if (view.demands.length === 0) out.push(' (no resource demands)');
  for (const d of view.demands) out.push(demandLine(d));
  if (verbose) {
    for (const n of view.active) {
      out.push('', `Node: ${n.nodeId}${n.isHead ? ' (head)' : ''}`, ` Address: ${n.nodeIp}:${n.rayletPort}  pid ${n.rayletPid}  host ${n.hostname}`,
        ` Last heard from: ${n.lastSeenAgoMs} ms ago`, ' Usage:');
      for (const row of usageRows(addResources({}, n.resourcesTotal), addResources({}, n.resourcesAvailable))) out.push(` ${usageLine(row)}`);
      const labels = Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(', ');
      if (labels) out.push(` Labels: ${labels}`);
    }
  }
  return out.join('\n') + '\n';
}

export function statusJson(view: StatusView): unknown {
  const node = (n: NodeInfo__Output) => ({
    nodeId: n.nodeId, nodeIp: n.nodeIp, rayletPort: n.rayletPort, isHead: n.isHead, hostname: n.hostname,
    resourcesTotal: n.resourcesTotal, resourcesAvailable: n.resourcesAvailable, labels: n.labels,
    ...(n.state === 'NODE_DEAD' ? { deathTimeMs: Number(n.deathTimeMs), deathCause: n.deathCause, deathReason: n.deathReason } : {}),
  });
  return {
    clusterId: view.clusterId, sessionName: view.sessionName, gcsAddress: view.gcsAddress, timestamp: view.timestamp,
    nodes: { active: view.active.map(node), pending: [], recentFailures: view.failed.map(node) },
    recentOomKills: view.oomKills,
    usage: Object.fromEntries(view.usage.map((r) => [r.name, {
      used: r.used, total: r.total, ...(r.placementGroups ? { placementGroups: { used: r.placementGroups.used, reserved: r.placementGroups.reserved } } : {}),
    }])),
    pendingDemands: view.demands.map((d) => ({
      shape: d.shape, count: d.count, kind: d.kind, strategy: d.strategy, infeasible: d.infeasible,
      ...(d.kind === 'placement_group' ? { bundles: (d.bundles ?? []).map((b) => ({ shape: b.shape, count: b.count })) } : {}),
    })),
  };
}
