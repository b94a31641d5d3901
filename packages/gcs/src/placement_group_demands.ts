/** Placement groups waiting for placement, in `rayts status` Pending Demands' shape: equal groups merged. */
import type { ResourceDemand__Output, ResourceMap } from '@rayts/common';
import type { PlacementGroupRecord } from './storage/placement_group_table.js';

export type WaitingGroup = Pick<PlacementGroupRecord, 'strategy' | 'bundles'> & { infeasible: boolean };

export function pendingGroupDemands(waiting: Iterable<WaitingGroup>): ResourceDemand__Output[] {
  const merged = new Map<string, ResourceDemand__Output>();
  for (const g of waiting) {
    const bundles: { shape: ResourceMap; count: number }[] = [];
    for (const b of g.bundles) {
      const same = bundles.find((x) => sameShape(x.shape, b.resources));
      if (same) same.count += 1;
      else bundles.push({ shape: b.resources, count: 1 });
    }
    const key = JSON.stringify([g.strategy, bundles.map((b) => [Object.entries(b.shape).sort(), b.count])]);
    const prev = merged.get(key);
    if (prev) {
      prev.count += 1;
      prev.infeasible ||= g.infeasible;
    } else {
      merged.set(key, { shape: {}, count: 1, kind: 'placement_group', strategy: g.strategy, infeasible: g.infeasible, bundles });
    }
  }
  return [...merged.values()];
}

function sameShape(a: ResourceMap, b: ResourceMap): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
