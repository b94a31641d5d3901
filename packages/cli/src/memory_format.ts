/**
 * `rayts memory` in `ray memory`'s shape: per-node summary and reference
 * table, then the aggregate object store line with spilled/restored figures.
 */
import { formatTable, formatTimestamp, type NodeStats__Output } from '@rayts/common';

export type GroupBy = 'node' | 'stack-trace';
export type SortBy = 'object-size' | 'pid' | 'reference-type';
export type Units = 'B' | 'KB' | 'MB' | 'GB';

const UNIT: Record<Units, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 };
const TYPES = ['LOCAL_REFERENCE', 'PINNED_IN_MEMORY', 'USED_BY_PENDING_TASK', 'CAPTURED_IN_OBJECT', 'ACTOR_HANDLE'] as const;
const MiB = 1024 * 1024;
/** What a process that does not record call sites reports (core-worker's CALL_SITE_DISABLED). */
const CALL_SITE_DISABLED = 'disabled';
export const CALL_SITE_HINT = 'To record the call site of each ObjectRef created, set RAYTS_RECORD_REF_CREATION_SITES=1 ' +
  'in the environment of the driver (and of `rayts start`, for refs made inside tasks).';

export interface MemoryOptions {
  groupBy: GroupBy;
  sortBy: SortBy;
  units: Units;
  statsOnly: boolean;
}

type Ref = NodeStats__Output['refs'][number];

function size(bytes: number, units: Units): string {
  if (bytes < 0) return '?';
  const v = bytes / UNIT[units];
  return `${units === 'B' ? v : v.toFixed(3)} ${units}`;
}

function sortRefs(refs: Ref[], by: SortBy): Ref[] {
  const key = (r: Ref): number | string => (by === 'pid' ? r.pid : by === 'reference-type' ? r.referenceType : Number(r.size));
  return [...refs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function aggregateLines(nodes: NodeStats__Output[]): string[] {
  let capacity = 0, used = 0, objects = 0, spilledBytes = 0, spilledObjects = 0, restoredBytes = 0, restoredObjects = 0, spillMbps = 0, restoreMbps = 0;
  for (const n of nodes) {
    const s = n.store!;
    capacity += Number(s.capacity); used += Number(s.used); objects += s.numObjects;
    spilledBytes += Number(s.spilledBytesTotal); spilledObjects += s.spilledObjectsTotal;
    restoredBytes += Number(s.restoredBytesTotal); restoredObjects += s.restoredObjectsTotal;
    spillMbps = Math.max(spillMbps, s.spillThroughputMibps); restoreMbps = Math.max(restoreMbps, s.restoreThroughputMibps);
  }
  const lines = ['--- Aggregate object store stats across all nodes ---',
    `Plasma memory usage ${Math.round(used / MiB)} MiB, ${objects} objects, ${capacity ? ((100 * used) / capacity).toFixed(1) : '0.0'}% full, 0.0% needed`];
  // Which pages back each node's store (docs/performance.md "First touch and huge pages").
  const modes = nodes.filter((n) => n.store!.pageMode).map((n) => `${n.store!.pageMode} (${n.nodeIp})`);
  if (modes.length > 0) lines.push(`Object store pages: ${modes.join(', ')}`);
  if (spilledObjects > 0) lines.push(`Spilled ${Math.round(spilledBytes / MiB)} MiB, ${spilledObjects} objects, avg write throughput ${Math.round(spillMbps)} MiB/s`);
  if (restoredObjects > 0) lines.push(`Restored ${Math.round(restoredBytes / MiB)} MiB, ${restoredObjects} objects, avg read throughput ${Math.round(restoreMbps)} MiB/s`);
  return lines;
}

export function renderMemory(nodes: NodeStats__Output[], o: MemoryOptions, now = new Date()): string {
  const out = [`======== Object references status: ${formatTimestamp(now)} ========`];
  if (!o.statsOnly) {
    out.push(`Grouping by ${o.groupBy === 'node' ? 'node address' : 'stack trace'}...        Sorting by ${o.sortBy.replace('-', ' ')}...        Display all entries per group...`, '', '');
    const groups = new Map<string, Ref[]>();
    for (const n of nodes) for (const r of n.refs) {
      const key = o.groupBy === 'node' ? r.ip : r.callSite;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const [key, refs] of groups) {
      const label = o.groupBy === 'node' ? `node address: ${key}` : `call site: ${key}`;
      const count = (t: string) => refs.filter((r) => r.referenceType === t);
      const cell = (t: string) => `${count(t).length}, (${size(count(t).reduce((a, r) => a + Math.max(0, Number(r.size)), 0), o.units)})`;
      out.push(`--- Summary for ${label} ---`,
        formatTable(['Mem Used by Objects', 'Local References', 'Pinned', 'Used by task', 'Captured in Objects', 'Actor Handles'],
          [[size(refs.reduce((a, r) => a + Math.max(0, Number(r.size)), 0), o.units), ...TYPES.map(cell)]]),
        `--- Object references for ${label} ---`,
        formatTable(['IP Address', 'PID', 'Type', 'Call Site', 'Status', 'Attempt', 'Size', 'Reference Type', 'Object Ref'],
          sortRefs(refs, o.sortBy).map((r) => [r.ip, String(r.pid), r.workerType, r.callSite, r.status, String(r.attempt), size(Number(r.size), o.units), r.referenceType, r.objectId])),
        '');
    }
    if (groups.size === 0) out.push('(no object references)', '');
    if (nodes.some((n) => n.refs.some((r) => r.callSite === CALL_SITE_DISABLED))) out.push(CALL_SITE_HINT, '');
  }
  out.push(...aggregateLines(nodes));
  return out.join('\n') + '\n';
}
