/** gRPC handlers of PlacementGroupService: validate every field, then hand over to the manager. */
import * as grpc from '@grpc/grpc-js';
import {
  PLACEMENT_GROUP_ID_BYTES, RpcError, asStatus, bundlesProblem, isHexId, newPlacementGroupId, raytsProto, require, strategyProblem, unary,
  type Config, type CreatePlacementGroupRequest__Output, type CreatePlacementGroupResult, type Logger, type PlacementGroupInfo__Output, type PlacementStrategy, type ResourceMap, withRequestSchemas,
} from '@rayts/common';
import { placementGroupServiceSchemas } from './request_schemas.js';
import { NameTakenError } from './errors.js';
import type { CreateRequest, PlacementGroup, PlacementGroupManager } from './placement_group_manager.js';

/** The service's waits: the longest long poll, and how long a create waits for its group to be placed. */
export type PlacementGroupServiceConfig = Pick<Config, 'longPollMaxWaitMs' | 'placementGroupCreateReplyWaitMs'>;

/** Most groups one batch call may carry (a driver's batcher sends at most 1000). */
const MAX_BATCH = 10_000;

export function toPlacementGroupInfo(g: PlacementGroup): PlacementGroupInfo__Output {
  return {
    placementGroupId: g.placementGroupId, name: g.name, strategy: g.strategy, state: g.state, jobId: g.jobId, detached: g.detached,
    bundles: g.bundles.map((b) => ({ resources: b.resources, nodeId: b.nodeId ?? '' })),
    version: g.version, createdAtMs: g.createdAtMs, pendingReason: g.state === 'PENDING' || g.state === 'RESCHEDULING' ? g.pendingReason : '',
  };
}

/** Validates one create request; a bad field throws INVALID_ARGUMENT. */
function parseCreate(req: CreatePlacementGroupRequest__Output): CreateRequest {
  const id = req.placementGroupId || newPlacementGroupId();
  require(isHexId(id, PLACEMENT_GROUP_ID_BYTES), `placement_group_id must be ${PLACEMENT_GROUP_ID_BYTES * 2} hex characters`);
  const bundles: ResourceMap[] = req.bundles.map((b) => Object.fromEntries(Object.entries(b.resources).map(([k, v]) => [k, Number(v)])));
  const problem = strategyProblem(req.strategy) ?? bundlesProblem(bundles);
  require(!problem, problem ?? '');
  require(req.name.length <= 256, 'placement group names are at most 256 characters');
  return { placementGroupId: id, name: req.name, strategy: req.strategy as PlacementStrategy, bundles, jobId: req.jobId.slice(0, 64), detached: req.detached };
}

/**
 * Creates the groups (one table transaction for all) and answers each once it is placed, or after a
 * short wait with what it is: most groups fit at once, and the answer then spares ready() a round trip.
 */
async function createGroups(
  manager: PlacementGroupManager, logger: Logger, replyWaitMs: number, requests: CreatePlacementGroupRequest__Output[],
): Promise<CreatePlacementGroupResult[]> {
  const parsed = requests.map((req) => {
    try {
      return parseCreate(req);
    } catch (err) {
      return err as Error;
    }
  });
  const valid = parsed.filter((p): p is CreateRequest => !(p instanceof Error));
  const created = manager.createMany(valid);
  let next = 0;
  const outcomes = parsed.map((p) => (p instanceof Error ? p : created[next++]!));
  return Promise.all(outcomes.map(async (outcome) => {
    if (outcome instanceof Error) {
      const status = asStatus(logger, 'CreatePlacementGroup', outcome instanceof NameTakenError ? new RpcError(grpc.status.ALREADY_EXISTS, outcome.message) : outcome);
      return { group: null, errorCode: status.code, errorMessage: status.details };
    }
    const placed = outcome.state === 'CREATED' ? outcome : await manager.waitForVersion(outcome.placementGroupId, '', outcome.version + 1, replyWaitMs);
    return { group: toPlacementGroupInfo(placed ?? outcome), errorCode: 0, errorMessage: '' };
  }));
}

export function addPlacementGroupService(server: grpc.Server, manager: PlacementGroupManager, config: PlacementGroupServiceConfig, logger: Logger): void {
  const replyWaitMs = config.placementGroupCreateReplyWaitMs;
  const service = raytsProto().PlacementGroupService.service;
  server.addService(service, withRequestSchemas(service, placementGroupServiceSchemas, {
    CreatePlacementGroup: unary(logger, 'CreatePlacementGroup', async (req: CreatePlacementGroupRequest__Output) => {
      const [result] = await createGroups(manager, logger, replyWaitMs, [req]);
      if (result!.errorCode) throw new RpcError(result!.errorCode, result!.errorMessage ?? '');
      return { group: result!.group };
    }),
    CreatePlacementGroups: unary(logger, 'CreatePlacementGroups', async (req: { groups: CreatePlacementGroupRequest__Output[] }) => {
      require(req.groups.length <= MAX_BATCH, `at most ${MAX_BATCH} placement groups per call, got ${req.groups.length}`);
      return { results: await createGroups(manager, logger, replyWaitMs, req.groups) };
    }),
    RemovePlacementGroup: unary(logger, 'RemovePlacementGroup', async (req) => ({ removed: (await manager.removeMany([req.placementGroupId]))[0] })),
    RemovePlacementGroups: unary(logger, 'RemovePlacementGroups', async (req: { placementGroupIds: string[] }) => {
      require(req.placementGroupIds.length <= MAX_BATCH, `at most ${MAX_BATCH} placement groups per call, got ${req.placementGroupIds.length}`);
      return { removed: await manager.removeMany(req.placementGroupIds) };
    }),
    GetPlacementGroup: unary(logger, 'GetPlacementGroup', async (req) => {
      const group = await manager.waitForVersion(req.placementGroupId, req.name, Number(req.minVersion), Math.min(req.waitMs, config.longPollMaxWaitMs));
      return group ? { found: true, group: toPlacementGroupInfo(group) } : { found: false, group: null };
    }),
    ListPlacementGroups: unary(logger, 'ListPlacementGroups', () => ({ groups: manager.list().map(toPlacementGroupInfo) })),
  }));
}
