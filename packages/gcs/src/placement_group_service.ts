/** gRPC handlers of PlacementGroupService: validate every field, then hand over to the manager. */
import * as grpc from '@grpc/grpc-js';
import {
  PLACEMENT_GROUP_ID_BYTES, RpcError, bundlesProblem, isHexId, newPlacementGroupId, raytsProto, require, strategyProblem, unary,
  type Logger, type PlacementGroupInfo__Output, type PlacementStrategy, type ResourceMap,
} from '@rayts/common';
import { NameTakenError, type PlacementGroup, type PlacementGroupManager } from './placement_group_manager.js';

/** Longest a GetPlacementGroup long poll is held open. */
const MAX_WAIT_MS = 60_000;

/** How long a create call waits for the group to be placed before it answers with PENDING. */
const CREATE_REPLY_WAIT_MS = 200;

export function toPlacementGroupInfo(g: PlacementGroup): PlacementGroupInfo__Output {
  return {
    placementGroupId: g.placementGroupId, name: g.name, strategy: g.strategy, state: g.state, jobId: g.jobId, detached: g.detached,
    bundles: g.bundles.map((b) => ({ resources: b.resources, nodeId: b.nodeId ?? '' })),
    version: g.version, createdAtMs: g.createdAtMs, pendingReason: g.state === 'PENDING' || g.state === 'RESCHEDULING' ? g.pendingReason : '',
  };
}

export function addPlacementGroupService(server: grpc.Server, manager: PlacementGroupManager, logger: Logger): void {
  server.addService(raytsProto().PlacementGroupService.service, {
    CreatePlacementGroup: unary(logger, 'CreatePlacementGroup', async (req) => {
      const id = req.placementGroupId || newPlacementGroupId();
      require(isHexId(id, PLACEMENT_GROUP_ID_BYTES), `placement_group_id must be ${PLACEMENT_GROUP_ID_BYTES * 2} hex characters`);
      const bundles: ResourceMap[] = req.bundles.map((b: { resources: Record<string, number | string> }) => Object.fromEntries(Object.entries(b.resources).map(([k, v]) => [k, Number(v)])));
      const problem = strategyProblem(req.strategy) ?? bundlesProblem(bundles);
      require(!problem, problem ?? '');
      require(req.name.length <= 256, 'placement group names are at most 256 characters');
      try {
        const group = manager.create({
          placementGroupId: id, name: req.name, strategy: req.strategy as PlacementStrategy, bundles, jobId: req.jobId.slice(0, 64), detached: req.detached,
        });
        // Most groups fit at once: answering when placed (or after a short wait) spares the caller's
        // ready() a round trip.
        const placed = group.state === 'CREATED' ? group : await manager.waitForVersion(id, '', group.version + 1, CREATE_REPLY_WAIT_MS);
        return { group: toPlacementGroupInfo(placed ?? group) };
      } catch (err) {
        if (err instanceof NameTakenError) throw new RpcError(grpc.status.ALREADY_EXISTS, err.message);
        throw err;
      }
    }),
    RemovePlacementGroup: unary(logger, 'RemovePlacementGroup', async (req) => ({ removed: await manager.remove(req.placementGroupId) })),
    GetPlacementGroup: unary(logger, 'GetPlacementGroup', async (req) => {
      const group = await manager.waitForVersion(req.placementGroupId, req.name, Number(req.minVersion), Math.min(req.waitMs, MAX_WAIT_MS));
      return group ? { found: true, group: toPlacementGroupInfo(group) } : { found: false, group: null };
    }),
    ListPlacementGroups: unary(logger, 'ListPlacementGroups', () => ({ groups: manager.list().map(toPlacementGroupInfo) })),
  });
}
