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

/** Handlers keyed by RPC name, to spread into the raylet's service implementation. */
export function bundleHandlers(nodeId: string, reservations: () => BundleReservations | undefined, logger: Logger) {
  const handler = (operation: BundleOperation, step: (r: BundleReservations, bundles: BundleRef[]) => BundleResult) =>
    unary(logger, operation, (req: { nodeId: string; bundles: BundleSpec__Output[] }) => {
      if (req.nodeId && req.nodeId !== nodeId) throw new RpcError(grpc.status.FAILED_PRECONDITION, `this raylet is node ${nodeId}, not ${req.nodeId}`);
      const r = reservations();
      if (!r) throw new RpcError(grpc.status.UNAVAILABLE, 'the raylet is starting');
      const result = step(r, req.bundles.map(bundleFromProto));
      const { total, available } = r.resourcesNow();
      return { success: result.success, reason: result.success ? '' : result.reason, total, available };
    });
  return {
    PrepareBundles: handler('PrepareBundles', (r, b) => r.prepare(b)),
    CommitBundles: handler('CommitBundles', (r, b) => r.commit(b)),
    ReserveBundles: handler('ReserveBundles', (r, b) => {
      const prepared = r.prepare(b);
      if (!prepared.success) return prepared;
      const committed = r.commit(b);
      if (!committed.success) r.cancel(b);
      return committed;
    }),
    CancelBundles: handler('CancelBundles', (r, b) => r.cancel(b)),
    ReturnBundles: handler('ReturnBundles', (r, b) => r.return(b)),
  };
}
