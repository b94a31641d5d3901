/** Which bundles of placement groups sit on which node: for reservations, returns and clean-ups. */
import type { BundleKey } from './bundle_reservation.js';
import type { PlacementGroupRecord } from './storage/placement_group_table.js';

type Group = Pick<PlacementGroupRecord, 'placementGroupId' | 'bundles' | 'state'>;

/** A group's bundles by node; `nodeOf` names bundle i's node, or undefined to leave it out. */
export function bundlesByNode(g: Group, nodeOf: (nodeId: string | undefined, index: number) => string | undefined): Map<string, BundleKey[]> {
  const byNode = new Map<string, BundleKey[]>();
  g.bundles.forEach((b, i) => {
    const nodeId = nodeOf(b.nodeId, i);
    if (!nodeId) return;
    const list = byNode.get(nodeId) ?? [];
    list.push({ placementGroupId: g.placementGroupId, bundleIndex: i, resources: b.resources });
    byNode.set(nodeId, list);
  });
  return byNode;
}

/** The bundles a group holds, by node. */
export function heldBundles(g: Group): Map<string, BundleKey[]> {
  return bundlesByNode(g, (nodeId) => nodeId);
}

/** Every bundle the head does not record as held on `nodeId` (what a restarted head tells it to drop). */
export function bundlesNotHeldOn(groups: Iterable<Group>, nodeId: string): BundleKey[] {
  const stale: BundleKey[] = [];
  for (const g of groups) {
    g.bundles.forEach((b, i) => {
      if (g.state === 'REMOVED' || b.nodeId !== nodeId) stale.push({ placementGroupId: g.placementGroupId, bundleIndex: i, resources: b.resources });
    });
  }
  return stale;
}
