/** Task arguments between the local protocol's shape and the gRPC message (actor specs, relayed tasks). */
import type { TaskArgMsg, TaskArgMsgOutput } from '@rayts/common';
import type { TaskArg } from '../protocol/messages.js';

export function argToMsg(a: TaskArg): TaskArgMsg {
  return a.kind === 'value'
    ? { value: Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength), inPlasma: false }
    : { inPlasma: true, objectId: a.objectId, nodeId: a.nodeId, size: a.size };
}

export function argFromMsg(a: TaskArgMsgOutput): TaskArg {
  return a.inPlasma ? { kind: 'plasma', objectId: a.objectId, nodeId: a.nodeId, size: Number(a.size) } : { kind: 'value', data: a.value };
}
