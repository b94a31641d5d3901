/**
 * What every message on the local socket must look like after the hello, checked before its handler
 * runs (LocalServer.dispatch). Drivers and workers are rayts's own code, but the socket is reachable by
 * any token holder, on this node or through a remote client's tunnel, and a malformed message must be
 * refused, never reach the scheduler or the store: a client whose message breaks a rule is told why
 * in the raylet's log and disconnected.
 */
import { msg, v } from '@rayts/common';
import type { ClientMessage } from './protocol.js';

const reqId = v.num({ min: 0, max: 0xffffffff, integer: true });
const address = v.obj({ nodeId: msg.optionalNodeId, clientId: msg.clientId });
const size = v.uint64;
const MAX_TEXT = 64 * 1024 * 1024;
const optionalStr = (max: number) => v.optional(v.str({ max }));

/** A field the sender may leave out. */
const absentOr = <T>(inner: v.Schema<T>) => ({ parse: (x: unknown, path?: string) => (x === undefined ? x : inner.parse(x, path)) });

/** A scheduling strategy as the core worker writes it (SchedulingStrategy, or its message form with only `kind`). */
const strategy = {
  parse(value: unknown, path?: string): unknown {
    const kind = v.oneOf(['', 'DEFAULT', 'SPREAD', 'NODE_AFFINITY']).parse((value as { kind?: unknown } | null)?.kind, path ? `${path}.kind` : 'kind');
    if (kind === 'NODE_AFFINITY') v.obj({ nodeId: msg.nodeId, soft: v.bool() }).parse(value, path);
    return value;
  },
};

const taskArg = {
  parse(value: unknown, path?: string): unknown {
    const kind = v.oneOf(['value', 'plasma']).parse((value as { kind?: unknown } | null)?.kind, path ? `${path}.kind` : 'kind');
    if (kind === 'value') return v.obj({ data: v.bytes({ max: msg.MAX_INLINE_BYTES }) }).parse(value, path);
    return v.obj({ objectId: msg.objectId, nodeId: msg.optionalNodeId, size }).parse(value, path);
  },
};

export const localTaskSpec = v.obj({
  taskId: msg.taskId, jobId: msg.jobId, attempt: v.num({ min: 0, max: 2 ** 31, integer: true }), name: msg.name, fnHash: v.str({ max: 256 }),
  args: v.list(taskArg, { max: msg.MAX_ITEMS }), returnId: msg.objectId, resources: v.resources(), strategy, owner: address,
  depth: v.num({ min: 0, max: 10_000, integer: true }), driverNodeId: msg.optionalNodeId,
  actorId: v.optional(msg.actorId), method: v.optional(msg.name),
  retriable: { parse: (x: unknown, path?: string) => (x === undefined || x === false ? x : v.bool().parse(undefined, path)) },
});

/** An actor's argument in its spec (actor_spec.ts argToMsg: a value, or where the object is). */
const actorArg = {
  parse(value: unknown, path?: string): unknown {
    const inPlasma = v.bool().parse((value as { inPlasma?: unknown } | null)?.inPlasma, path ? `${path}.in_plasma` : 'in_plasma');
    if (!inPlasma) return v.obj({ value: v.bytes({ max: msg.MAX_INLINE_BYTES }) }).parse(value, path);
    return v.obj({ objectId: msg.objectId, nodeId: msg.optionalNodeId, size }).parse(value, path);
  },
};

const retries = v.num({ min: -1, max: 2 ** 31 - 1, integer: true });

/** An actor's spec as its creator writes it for reserveActor (the proto message's fields, unset ones left out). */
const localActorSpec = v.obj({
  actorId: msg.actorId, jobId: msg.jobId, className: msg.name, classHash: v.str({ min: 1, max: 256 }),
  methodNames: v.list(msg.name, { max: msg.MAX_ITEMS }), args: v.list(actorArg, { max: msg.MAX_ITEMS }),
  name: msg.name, namespace: msg.name, detached: v.bool(), maxRestarts: retries, maxTaskRetries: retries,
  maxConcurrency: v.num({ min: 1, max: 1_000_000, integer: true }), maxPendingCalls: retries,
  placementResources: v.resources(), heldResources: v.resources(), strategy,
  ownerNodeId: msg.optionalNodeId, ownerClientId: msg.clientId, jobDir: msg.path, driverNodeId: msg.optionalNodeId, reservedNodeId: absentOr(msg.optionalNodeId),
});

const failureTypes = ['APPLICATION', 'WORKER_DIED', 'NODE_DIED', 'UNSCHEDULABLE', 'SERIALIZATION', 'CANCELLED', 'ACTOR_DIED', 'ACTOR_UNAVAILABLE', 'RUNTIME_ENV_SETUP_FAILED'] as const;
const failure = v.obj({
  type: v.oneOf(failureTypes), message: v.str({ max: MAX_TEXT }), errorName: optionalStr(512), stack: optionalStr(MAX_TEXT),
  cause: v.optional(v.bytes({ max: msg.MAX_INLINE_BYTES })), nodeIp: optionalStr(256), pid: v.optional(v.uint32),
  actorId: v.optional(msg.actorId), deathCause: optionalStr(256),
});

const returnValue = {
  parse(value: unknown, path?: string): unknown {
    const kind = v.oneOf(['inline', 'plasma']).parse((value as { kind?: unknown } | null)?.kind, path ? `${path}.kind` : 'kind');
    if (kind === 'inline') return v.obj({ data: v.bytes({ max: msg.MAX_INLINE_BYTES }) }).parse(value, path);
    return v.obj({ nodeId: msg.optionalNodeId, size }).parse(value, path);
  },
};

const outcome = v.obj({
  taskId: msg.taskId, attempt: v.num({ min: 0, max: 2 ** 31, integer: true }), returnId: { parse: (x: unknown, path?: string) => (x === '' ? x : msg.objectId.parse(x, path)) },
  value: v.optional(returnValue), failure: v.optional(failure), nodeId: msg.optionalNodeId, run: optionalStr(4096),
});

const ownedState = {
  parse(value: unknown, path?: string): unknown {
    const status = v.oneOf(['ready', 'failed', 'unknown']).parse((value as { status?: unknown } | null)?.status, path ? `${path}.status` : 'status');
    if (status === 'ready') return v.obj({ value: returnValue }).parse(value, path);
    if (status === 'failed') return v.obj({ failure, taskName: msg.name }).parse(value, path);
    return value;
  },
};

const refInfo = v.obj({
  objectId: msg.objectId, size: v.num({ min: -1, max: Number.MAX_SAFE_INTEGER, integer: true }),
  referenceType: v.oneOf(['LOCAL_REFERENCE', 'PINNED_IN_MEMORY', 'USED_BY_PENDING_TASK', 'CAPTURED_IN_OBJECT', 'ACTOR_HANDLE']),
  status: v.oneOf(['FINISHED', 'PENDING', 'FAILED']), attempt: v.num({ min: -1, max: 2 ** 31, integer: true }), callSite: v.str({ max: 4096 }),
});

/** One schema per message type a client sends after its hello. */
const schemas: { [K in ClientMessage['type']]: v.Schema } = {
  hello: v.obj({}),
  submit: v.obj({ task: localTaskSpec }),
  taskDone: v.obj({ outcome }),
  actorCreated: v.obj({ actorId: msg.actorId, failure: v.optional(failure) }),
  actorCall: v.obj({ nodeId: msg.nodeId, workerId: msg.clientId, task: localTaskSpec }),
  blocked: v.obj({}),
  unblocked: v.obj({}),
  cancel: v.obj({ taskId: msg.taskId, force: v.bool() }),
  returnTasks: v.obj({ taskIds: v.list(msg.taskId, { max: msg.MAX_ITEMS }) }),
  objCreate: v.obj({ reqId, objectId: msg.objectId, size, owner: address }),
  objSeal: v.obj({ reqId, objectId: msg.objectId }),
  objGet: v.obj({ reqId, objectId: msg.objectId, nodeId: msg.optionalNodeId, size }),
  objRelease: v.obj({ reqId, objectIds: v.list(msg.objectId, { max: 1_000_000 }) }),
  objDelete: v.obj({ reqId, objects: v.list(v.obj({ objectId: msg.objectId, nodeId: msg.optionalNodeId }), { max: 1_000_000 }) }),
  objStats: v.obj({ reqId }),
  ownerGet: v.obj({ reqId, objectId: msg.objectId, owner: address }),
  nodeInfo: v.obj({ reqId }),
  reserveActor: v.obj({ reqId, spec: localActorSpec, classDescriptor: v.bytes({ max: msg.MAX_INLINE_BYTES }) }),
  releaseActor: v.obj({ reqId, actorId: msg.actorId }),
  refsReply: v.obj({ reqId, refs: v.list(refInfo, { max: 10_000_000 }) }),
  logs: v.obj({ jobId: msg.jobId, driverNodeId: msg.optionalNodeId, prefix: v.str({ max: 1024 }), stream: v.oneOf(['stdout', 'stderr']), text: v.str({ max: MAX_TEXT }) }),
  ownerLookupReply: v.obj({ reqId, state: ownedState }),
  requestLease: v.obj({ leaseId: reqId, task: localTaskSpec }),
  returnLease: v.obj({ leaseId: reqId, kill: optionalStr(1024) }),
  leaseBacklog: v.obj({ key: v.str({ max: 4096 }), resources: v.resources(), size: v.num({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }) }),
};

/** What is wrong with a client's message (undefined: nothing). */
export function localMessageProblem(m: unknown): string | undefined {
  const type = (m as { type?: unknown } | null)?.type;
  const schema = typeof type === 'string' && Object.hasOwn(schemas, type) ? schemas[type as ClientMessage['type']] : undefined;
  if (!schema) return `a message of unknown type ${v.preview(type)}`;
  return v.problemOf(schema, m, type as string);
}
