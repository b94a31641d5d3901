/** gRPC handlers of the bundle reservation steps (raylet.proto), in front of BundleReservations. */
import * as grpc from '@grpc/grpc-js';
import { RpcError, require, unary, type BundleOperation, type BundleSpec__Output, type Logger, type ResourceMap } from '@rayts/common';
import type { BundleRef, BundleReservations, BundleResult } from './bundle_reservations.js';

function bundleFromProto(b: BundleSpec__Output): BundleRef {
  const resources: ResourceMap = {};
  for (const [k, v] of Object.entries(b.resources)) {
    const n = Number(v);
    require(Number.isFinite(n) && n >= 0, `bundle ${b.bundleIndex} of ${b.placementGroupId}: ${k}=${v} is not a non-negative amount`);
    resources[k] = n;
  }
  require(b.placementGroupId.length > 0, 'placement_group_id is required');
  return { placementGroupId: b.placementGroupId, bundleIndex: b.bundleIndex, resources };
}

/** The bundles of a call, by group: each group's bundles succeed or fail together. */
function byGroup(bundles: BundleRef[]): BundleRef[][] {
  const groups = new Map<string, BundleRef[]>();
  for (const b of bundles) {
    const list = groups.get(b.placementGroupId);
    if (list) list.push(b);
    else groups.set(b.placementGroupId, [b]);
  }
  return [...groups.values()];
}

/** Prepare and commit in one step: atomic for the group on this node. */
function reserve(r: BundleReservations, bundles: BundleRef[]): BundleResult {
  const prepared = r.prepare(bundles);
  if (!prepared.success) return prepared;
  const committed = r.commit(bundles);
  if (!committed.success) r.cancel(bundles);
  return committed;
}

const STEPS: Record<BundleOperation, (r: BundleReservations, bundles: BundleRef[]) => BundleResult> = {
  PrepareBundles: (r, b) => r.prepare(b),
  CommitBundles: (r, b) => r.commit(b),
  ReserveBundles: reserve,
  CancelBundles: (r, b) => r.cancel(b),
  ReturnBundles: (r, b) => r.return(b),
};

/** Handlers keyed by RPC name, to spread into the raylet's service implementation. */
export function bundleHandlers(nodeId: string, r: BundleReservations, logger: Logger) {
  const handler = (operation: BundleOperation) =>
    unary(logger, operation, (req: { nodeId: string; bundles: BundleSpec__Output[] }) => {
      if (req.nodeId && req.nodeId !== nodeId) throw new RpcError(grpc.status.FAILED_PRECONDITION, `this raylet is node ${nodeId}, not ${req.nodeId}`);
      const bundles = req.bundles.map(bundleFromProto);
      const failures: { placementGroupId: string; reason: string }[] = [];
      // One log line and one dispatch of queued tasks for the whole call, not one per group.
      r.batch(operation, () => {
        for (const group of byGroup(bundles)) {
          const result = STEPS[operation](r, group);
          if (!result.success) failures.push({ placementGroupId: group[0]!.placementGroupId, reason: result.reason });
        }
      });
      const { total, available } = r.resourcesNow();
      return { success: failures.length === 0, reason: failures[0]?.reason ?? '', total, available, failures };
    });
  return Object.fromEntries(Object.keys(STEPS).map((operation) => [operation, handler(operation as BundleOperation)])) as
    Record<BundleOperation, ReturnType<typeof handler>>;
}
