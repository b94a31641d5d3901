/** TaskSpec and TaskOutcome between the local protocol's shapes and the gRPC messages. */
import type { TaskSpec, TaskOutcome, OwnedState } from './protocol.js';
import { argFromMsg, argToMsg } from '@rayts/core-worker';
import { strategyFromMsg, strategyToMsg, toResourceMap } from '@rayts/common';
import type { OwnedObjectMsg, OwnedObjectMsgOutput } from '@rayts/common';
import type { TaskSpecMsg, TaskSpecMsgOutput, TaskOutcomeMsg, TaskOutcomeMsgOutput } from '@rayts/common';

export function specToProto(spec: TaskSpec): TaskSpecMsg {
  return {
    taskId: spec.taskId, jobId: spec.jobId, attempt: spec.attempt, name: spec.name, fnHash: spec.fnHash, returnId: spec.returnId,
    args: spec.args.map(argToMsg),
    resources: spec.resources,
    strategy: strategyToMsg(spec.strategy),
    ownerNodeId: spec.owner.nodeId, ownerClientId: spec.owner.clientId, depth: spec.depth, driverNodeId: spec.driverNodeId,
    actorId: spec.actorId ?? '', method: spec.method ?? '',
  };
}

export function specFromProto(m: TaskSpecMsgOutput): TaskSpec {
  return {
    taskId: m.taskId, jobId: m.jobId, attempt: m.attempt, name: m.name, fnHash: m.fnHash, returnId: m.returnId,
    args: m.args.map(argFromMsg),
    resources: toResourceMap(m.resources),
    strategy: strategyFromMsg(m.strategy),
    owner: { nodeId: m.ownerNodeId, clientId: m.ownerClientId }, depth: m.depth, driverNodeId: m.driverNodeId,
    ...(m.actorId ? { actorId: m.actorId, method: m.method } : {}),
  };
}

export function outcomeToProto(o: TaskOutcome): TaskOutcomeMsg {
  const f = o.failure;
  return {
    taskId: o.taskId, attempt: o.attempt, returnId: o.returnId, nodeId: o.nodeId, failed: !!f,
    failure: f ? { type: f.type, message: f.message, errorName: f.errorName ?? '', stack: f.stack ?? '',
      cause: f.cause ? Buffer.from(f.cause.buffer, f.cause.byteOffset, f.cause.byteLength) : Buffer.alloc(0), nodeIp: f.nodeIp ?? '', pid: f.pid ?? 0 } : undefined,
    value: o.value?.kind === 'inline' ? Buffer.from(o.value.data.buffer, o.value.data.byteOffset, o.value.data.byteLength) : Buffer.alloc(0),
    valueInPlasma: o.value?.kind === 'plasma', valueSize: o.value?.kind === 'plasma' ? o.value.size : 0,
    run: o.run ?? '',
  };
}

export function outcomeFromProto(m: TaskOutcomeMsgOutput): TaskOutcome {
  const base = { taskId: m.taskId, attempt: m.attempt, returnId: m.returnId, nodeId: m.nodeId, ...(m.run ? { run: m.run } : {}) };
  if (m.failed && m.failure) {
    const f = m.failure;
    return { ...base, failure: { type: f.type as NonNullable<TaskOutcome['failure']>['type'], message: f.message, errorName: f.errorName, stack: f.stack,
      cause: f.cause.length ? f.cause : undefined, nodeIp: f.nodeIp, pid: f.pid } };
  }
  return { ...base, value: m.valueInPlasma ? { kind: 'plasma', nodeId: m.nodeId, size: Number(m.valueSize) } : { kind: 'inline', data: m.value } };
}

/** An owner's answer about its object, to and from the GetFromOwner message. */
export function ownedToProto(state: OwnedState | undefined): OwnedObjectMsg {
  if (!state) return { status: 'owner_gone' };
  if (state.status === 'unknown') return { status: 'unknown' };
  if (state.status === 'failed') {
    const o = outcomeToProto({ taskId: '', attempt: 0, returnId: '', nodeId: '', failure: state.failure });
    return { status: 'failed', failure: o.failure, taskName: state.taskName };
  }
  const v = state.value;
  return v.kind === 'inline'
    ? { status: 'ready', inlineValue: Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength) }
    : { status: 'ready', inPlasma: true, plasmaNodeId: v.nodeId, plasmaSize: v.size };
}

export function ownedFromProto(m: OwnedObjectMsgOutput): OwnedState | undefined {
  if (m.status === 'owner_gone') return undefined;
  if (m.status === 'failed') {
    const o = outcomeFromProto({ taskId: '', attempt: 0, returnId: '', nodeId: '', failed: true, failure: m.failure, value: Buffer.alloc(0), valueInPlasma: false, valueSize: 0, run: '' });
    return { status: 'failed', failure: o.failure!, taskName: m.taskName };
  }
  if (m.status === 'ready') {
    return { status: 'ready', value: m.inPlasma ? { kind: 'plasma', nodeId: m.plasmaNodeId, size: Number(m.plasmaSize) } : { kind: 'inline', data: m.inlineValue } };
  }
  return { status: 'unknown' };
}
