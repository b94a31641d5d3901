/**
 * What every request to a raylet must look like: one table per service, applied by
 * `withRequestSchemas` before any handler runs (a bad field is INVALID_ARGUMENT naming it and the rule).
 * Handlers still refuse what depends on state (another node id: FAILED_PRECONDITION, unknown objects
 * or log files: NOT_FOUND). A method missing here stops the raylet at start, so none goes unchecked.
 */
import { MAX_STOP_GRACE_MS, MAX_ENTRYPOINT_BYTES } from './jobs/job_driver_service.js';
import { msg, v } from '@rayts/common';

/** Most ids or bundles in one request. */
const MAX_BATCH = 100_000;
const bundles = v.obj({ nodeId: msg.optionalNodeId, bundles: v.list(msg.bundleSpec, { max: MAX_BATCH }) });
const offset = v.num({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });

export const rayletServiceSchemas = {
  HealthCheck: v.obj({ nodeId: msg.optionalNodeId }),
  ListLogs: v.obj({ glob: v.str({ max: 256 }) }),
  StreamLog: v.obj({ name: v.str({ min: 1, max: 256 }), tail: v.num({ min: -1, max: 0x7fffffff, integer: true }), follow: v.bool(), range: v.bool(), startOffset: offset, endOffset: offset }),
  ExecuteTask: v.obj({ task: msg.taskSpec, jobDir: msg.path }),
  PullObject: v.obj({ objectId: msg.objectId }),
  DeleteObjects: v.obj({ objectIds: v.list(msg.objectId, { max: MAX_BATCH }) }),
  GetNodeStats: v.obj({ includeMemoryInfo: v.bool(), includeWorkers: v.bool() }),
  PublishLogs: v.obj({ jobId: msg.jobId, prefix: v.str({ max: 1024 }), stream: v.oneOf(['stdout', 'stderr']), text: v.str({ max: msg.MAX_INLINE_BYTES }) }),
  GetFromOwner: v.obj({ objectId: msg.objectId, ownerClientId: msg.clientId }),
  PrepareBundles: bundles,
  CommitBundles: bundles,
  ReserveBundles: bundles,
  CancelBundles: bundles,
  ReturnBundles: bundles,
  // Field by field with the job-specific messages in job_driver_service.ts; here the sizes and types.
  StartJobDriver: v.obj({
    submissionId: msg.submissionId, entrypoint: v.str({ min: 1, max: MAX_ENTRYPOINT_BYTES }), runtimeEnvJson: v.str({ max: 1024 * 1024 }), resources: v.resources(),
  }),
  StopJobDriver: v.obj({ submissionId: msg.submissionId, graceMs: v.num({ min: 0, max: MAX_STOP_GRACE_MS, integer: true }) }),
};

export const actorHostServiceSchemas = {
  CreateActor: v.obj({ spec: msg.actorSpec, numRestarts: v.uint32, classDescriptor: v.bytes({ max: msg.MAX_INLINE_BYTES }) }),
  KillActorWorker: v.obj({ actorId: msg.actorId, reason: msg.reason }),
  PushActorTask: v.obj({ actorId: msg.actorId, workerId: v.str({ max: 128 }), task: msg.taskSpec }),
};

const helloCommon = { type: v.oneOf(['hello']), token: v.str({ max: 256 }), pid: v.num({ min: 1, max: 0xffffffff, integer: true }) };
const driverHello = v.obj({
  ...helloCommon, role: v.oneOf(['driver']), jobId: msg.jobId, jobDir: msg.path,
  runtimeEnvJson: { parse: (value: unknown, path?: string) => (value === undefined ? value : v.str({ max: 1024 * 1024 }).parse(value, path)) },
});
const workerHello = v.obj({ ...helloCommon, role: v.oneOf(['worker']), workerId: msg.clientId });

/** The first message on the local socket (after its token was checked): a driver's or a worker's hello. */
export const localHelloSchema = {
  parse(value: unknown, path?: string): unknown {
    const role = v.oneOf(['driver', 'worker']).parse((value as { role?: unknown } | null)?.role, path ? `${path}.role` : 'role');
    return role === 'worker' ? workerHello.parse(value, path) : driverHello.parse(value, path);
  },
};
