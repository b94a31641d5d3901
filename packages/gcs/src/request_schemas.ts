/**
 * What every request to the head must look like: one table per service, applied by
 * `withRequestSchemas` before any handler runs (a bad field is INVALID_ARGUMENT naming it and the rule).
 * Handlers still refuse what depends on state (unknown ids: NOT_FOUND, out of protocol order:
 * FAILED_PRECONDITION). A method missing here stops the head at start, so no method goes unchecked.
 */
import { CHECKED_PER_MESSAGE, PROTOCOL_VERSION, msg, v, type Schema } from '@rayts/common';

const MAX_KEY = 1024;
const MAX_KV_VALUE_BYTES = 32 * 1024 * 1024;
/** Most ids in one request (batches, live ids at registration). */
const MAX_BATCH = 10_000;
const empty = v.obj({});
const kvKey = { namespace: v.str({ max: MAX_KEY }), key: v.str({ min: 1, max: MAX_KEY }) };
const packageRef = v.obj({ uri: v.str({ min: 1, max: 1024 }) });

const registerNodeFields = v.obj({
  node: msg.nodeInfo, protocolVersion: v.uint32, clusterId: msg.clusterId,
  liveJobIds: v.list(msg.jobId, { max: MAX_BATCH }), liveActorIds: v.list(msg.actorId, { max: MAX_BATCH }),
  metricsExportPort: v.port, jobDrivers: v.list(msg.jobDriverState, { max: MAX_BATCH }),
});

/** A node of another protocol version is refused by the handler with both versions named, whatever else it sent. */
const registerNode: Schema = {
  parse: (value, path) => ((value as { protocolVersion?: unknown } | null)?.protocolVersion === PROTOCOL_VERSION ? registerNodeFields.parse(value, path) : value),
};

export const clusterServiceSchemas = { GetClusterInfo: empty, GetClusterStatus: empty };

export const nodeServiceSchemas = {
  RegisterNode: registerNode,
  ReportResources: v.obj({
    nodeId: msg.nodeId, resourcesAvailable: v.resources({ maxEntries: v.MAX_NODE_RESOURCE_ENTRIES }), pendingDemands: v.list(msg.resourceDemand, { max: MAX_BATCH }),
    clusterId: msg.clusterId, resourcesTotal: v.resources({ maxEntries: v.MAX_NODE_RESOURCE_ENTRIES }), envJobIds: v.list(msg.jobId, { max: MAX_BATCH }),
  }),
  UnregisterNode: v.obj({ nodeId: msg.nodeId, reason: msg.reason }),
  ListNodes: v.obj({ includeDead: v.bool() }),
};

export const kvServiceSchemas = {
  KvPut: v.obj({ ...kvKey, value: v.bytes({ max: MAX_KV_VALUE_BYTES }), overwrite: v.bool() }),
  KvGet: v.obj(kvKey),
  KvDel: v.obj(kvKey),
  KvKeys: v.obj({ namespace: v.str({ max: MAX_KEY }), prefix: v.str({ max: MAX_KEY }) }),
};

export const jobServiceSchemas = {
  RegisterJob: v.obj({
    nodeId: msg.optionalNodeId, driverPid: v.uint32, entrypoint: v.str({ max: 1024 * 1024 }), jobDir: msg.path,
    submissionId: v.str({ max: 128, pattern: /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/, describe: "empty or a submission id (letters, digits, '_', '-' or '.', not first)" }),
    runtimeEnvJson: v.str({ max: 1024 * 1024 }),
  }),
  FinishJob: v.obj({ jobId: msg.jobId }),
  GetJobRuntimeEnv: v.obj({ jobId: msg.jobId }),
  ReportJobDriver: msg.jobDriverState,
};

export const packageServiceSchemas = {
  PackageExists: packageRef,
  UploadPackage: CHECKED_PER_MESSAGE,
  DownloadPackage: packageRef,
};

export const placementGroupServiceSchemas = {
  CreatePlacementGroup: msg.createPlacementGroup,
  CreatePlacementGroups: v.obj({ groups: v.list(msg.createPlacementGroup, { max: MAX_BATCH }) }),
  RemovePlacementGroup: v.obj({ placementGroupId: msg.placementGroupId }),
  RemovePlacementGroups: v.obj({ placementGroupIds: v.list(msg.placementGroupId, { max: MAX_BATCH }) }),
  GetPlacementGroup: v.obj({ placementGroupId: msg.optionalPlacementGroupId, name: msg.name, minVersion: msg.version, waitMs: msg.waitMs }),
  ListPlacementGroups: empty,
};

export const taskEventServiceSchemas = {
  // The events' compact form is decoded and checked field by field by the service (task_event_service.ts).
  AddTaskEvents: v.obj({ events: v.bytes({ max: 256 * 1024 * 1024 }), numDropped: v.uint64 }),
  GetTaskEvents: v.obj({ jobId: msg.optionalJobId, taskId: v.hexId(msg.TASK_ID_BYTES, { optional: true }), limit: v.uint32 }),
};

export const actorServiceSchemas = {
  RegisterActor: v.obj({ spec: msg.actorSpec }),
  GetActor: v.obj({ actorId: msg.actorId, minVersion: msg.version, waitMs: msg.waitMs }),
  GetNamedActor: v.obj({ name: v.str({ min: 1, max: 256 }), namespace: v.str({ max: 256 }) }),
  KillActor: v.obj({ actorId: msg.actorId, noRestart: v.bool() }),
  ListActors: v.obj({ includeDead: v.bool() }),
  ReportActorDeath: v.obj({ actorId: msg.actorId, nodeId: msg.optionalNodeId, workerId: msg.clientId, reason: msg.reason }),
};
