/**
 * Schemas of the messages several services carry (task specs, actor specs, node info, resource
 * demands, job driver states), built from the checks of validate.ts. Each service's own table
 * (gcs/src/request_schemas.ts, raylet/src/request_schemas.ts) composes them.
 */
import { NODE_ID_BYTES, CLUSTER_ID_BYTES } from '../ids.js';
import { PLACEMENT_GROUP_ID_BYTES } from '../scheduling/bundle_resources.js';
import {
  bool, bytes, epochMs, hexId, int32, list, map, MAX_NODE_RESOURCE_ENTRIES, num, obj, oneOf, optional, resources, str, uint32, uint64,
} from './validate.js';

/** Task, object and worker-less ids: 28 bytes like Ray's. */
export const TASK_ID_BYTES = 28;
export const OBJECT_ID_BYTES = 28;
export const ACTOR_ID_BYTES = 16;

export const nodeId = hexId(NODE_ID_BYTES);
export const optionalNodeId = hexId(NODE_ID_BYTES, { optional: true });
export const clusterId = hexId(CLUSTER_ID_BYTES, { optional: true });
export const taskId = hexId(TASK_ID_BYTES);
export const objectId = hexId(OBJECT_ID_BYTES);
export const optionalObjectId = hexId(OBJECT_ID_BYTES, { optional: true });
export const actorId = hexId(ACTOR_ID_BYTES);
export const optionalActorId = hexId(ACTOR_ID_BYTES, { optional: true });
export const placementGroupId = hexId(PLACEMENT_GROUP_ID_BYTES);
export const optionalPlacementGroupId = hexId(PLACEMENT_GROUP_ID_BYTES, { optional: true });
/** Job ids are small hex numbers (00000001). */
export const jobId = str({ min: 1, max: 64, pattern: /^[0-9a-f]+$/, describe: 'a job id (lowercase hex)' });
export const optionalJobId = str({ max: 64, pattern: /^[0-9a-f]+$/, describe: 'empty or a job id (lowercase hex)' });
/** Worker ids, and the client ids of a node's local clients (driver-<pid>-<n>). */
export const clientId = str({ max: 128, pattern: /^[A-Za-z0-9_-]+$/, describe: 'a worker or client id (letters, digits, - and _)' });
export const submissionId = str({ min: 1, max: 128, pattern: /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/, describe: "a submission id (letters, digits, '_', '-' or '.', not first)" });

/** Short names (actors, namespaces, methods, task names); text (reasons, messages); paths. */
export const name = str({ max: 512 });
export const reason = str({ max: 8192 });
export const path = str({ max: 4096 });
export const labels = map(str({ min: 1, max: 256 }), str({ max: 1024 }), { max: 256 });

/** Most arguments of one task, items of one batch, methods of one class. */
export const MAX_ITEMS = 10_000;
/** The largest inline value a message may carry (grpc's own receive limit is the real bound). */
export const MAX_INLINE_BYTES = 512 * 1024 * 1024;

export const strategy = optional(obj({
  kind: oneOf(['', 'DEFAULT', 'SPREAD', 'NODE_AFFINITY']),
  nodeId: optionalNodeId,
  soft: bool(),
}));

export const taskArg = obj({
  value: bytes({ max: MAX_INLINE_BYTES }),
  inPlasma: bool(),
  objectId: optionalObjectId,
  nodeId: optionalNodeId,
  size: uint64,
});

export const taskSpec = obj({
  taskId, jobId, attempt: num({ min: 0, max: 2 ** 31, integer: true }), name, fnHash: str({ max: 256 }),
  args: list(taskArg, { max: MAX_ITEMS }), returnId: objectId, resources: resources(), strategy,
  ownerNodeId: optionalNodeId, ownerClientId: clientId, depth: num({ min: 0, max: 10_000, integer: true }),
  driverNodeId: optionalNodeId, actorId: optionalActorId, method: name,
});

const retries = num({ min: -1, max: 2 ** 31 - 1, integer: true });

export const actorSpec = obj({
  actorId, jobId, className: name, classHash: str({ min: 1, max: 256 }),
  methodNames: list(name, { max: MAX_ITEMS }), args: list(taskArg, { max: MAX_ITEMS }),
  name, namespace: name, detached: bool(), maxRestarts: retries, maxTaskRetries: retries,
  maxConcurrency: num({ min: 1, max: 1_000_000, integer: true }), maxPendingCalls: retries,
  placementResources: resources(), heldResources: resources(), strategy,
  ownerNodeId: optionalNodeId, ownerClientId: clientId, jobDir: path, driverNodeId: optionalNodeId, reservedNodeId: optionalNodeId,
});

/** A node as its raylet describes itself at registration (fields the head sets itself are not read). */
export const nodeInfo = obj({
  nodeId, nodeIp: str({ min: 1, max: 255 }), rayletPort: num({ min: 1, max: 65535, integer: true }), hostname: str({ max: 1024 }),
  isHead: bool(), resourcesTotal: resources({ maxEntries: MAX_NODE_RESOURCE_ENTRIES }), labels, startTimeMs: epochMs, rayletPid: uint32,
  sessionName: str({ max: 256 }), version: str({ max: 256 }), nodeVersion: str({ max: 256 }),
});

const bundleShape = obj({ shape: resources(), count: uint32 });

export const resourceDemand = obj({
  shape: resources(), count: uint32, kind: oneOf(['', 'task', 'actor', 'placement_group']), strategy: str({ max: 64 }),
  infeasible: bool(), bundles: list(bundleShape, { max: 1000 }),
});

export const jobDriverState = obj({
  submissionId, nodeId: optionalNodeId,
  phase: oneOf(['JOB_DRIVER_PHASE_UNSPECIFIED', 'JOB_DRIVER_PREPARING', 'JOB_DRIVER_RUNNING', 'JOB_DRIVER_EXITED', 'JOB_DRIVER_FAILED_TO_START']),
  pid: uint32, logFile: str({ max: 1024 }), exitCode: int32, signal: str({ max: 64 }), stopped: bool(), message: reason, timeMs: epochMs,
});

export const bundleSpec = obj({ placementGroupId, bundleIndex: num({ min: 0, max: 999, integer: true }), resources: resources() });

export const placementGroupBundle = obj({ resources: resources(), nodeId: optionalNodeId });

export const createPlacementGroup = obj({
  placementGroupId: optionalPlacementGroupId, name, strategy: str({ max: 64 }), bundles: list(placementGroupBundle, { max: 1000 }),
  jobId: optionalJobId, detached: bool(),
});

/** A bound for long polls' wait_ms and versions. */
export const waitMs = uint32;
export const version = uint64;
