/** The cluster's totals from the nodes list: resources used and total over alive nodes, counts by state. */
import type { NodeRow, NodeStoreRow } from './types.js';
import { used } from './format.js';

export interface Totals {
  used: Record<string, number>;
  total: Record<string, number>;
}

export function resourceTotals(nodes: NodeRow[], resources: readonly string[]): Totals {
  const out: Totals = { used: {}, total: {} };
  for (const r of resources) { out.used[r] = 0; out.total[r] = 0; }
  for (const n of nodes.filter((x) => x.state === 'ALIVE')) {
    for (const r of resources) {
      out.total[r]! += n.resources_total[r] ?? 0;
      out.used[r]! += used(n.resources_total, n.resources_available, r);
    }
  }
  return out;
}

export function storeTotals(stores: NodeStoreRow[]): { used: number; capacity: number; spilled: number } {
  return stores.reduce((a, s) => ({ used: a.used + s.store_used_bytes, capacity: a.capacity + s.store_capacity_bytes, spilled: a.spilled + s.spilled_bytes_now }),
    { used: 0, capacity: 0, spilled: 0 });
}

export function countBy<T>(rows: T[], key: (row: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

/** Task counts by state from a summary (each task counted once, by its latest attempt). */
export function taskStateCounts(groups: { state_counts: Record<string, number> }[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const g of groups) for (const [s, n] of Object.entries(g.state_counts)) counts.set(s, (counts.get(s) ?? 0) + n);
  return [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}
