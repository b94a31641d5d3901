/**
 * How the core worker turns values into bytes and back, through the value codec: binary payloads
 * travel out of band (a large typed array read from this node's store is a view over the shared
 * memory, not a copy), and ObjectRefs inside values keep their identity and owner.
 */
import {
  SerializationError, decodeFromBuffer, encodeValue, encodedSize, readEncoded, writeEncoded, type Encoded,
} from '@rayts/common';
import { ObjectRef } from './object_ref.js';
import { ACTOR_WIRE_PREFIX, ActorHandleBase, actorWireId, reviveActorHandle } from './actor/actor_handle.js';

export { ACTOR_WIRE_PREFIX };

/** A ref's wire id carries its owner: `<object id>|<owner node>|<owner client>`. */
export function refWireId(ref: ObjectRef): string {
  return `${ref.id}|${ref.owner.nodeId}|${ref.owner.clientId}`;
}

export function reviveRef(wire: string): ObjectRef | ActorHandleBase {
  if (wire.startsWith(ACTOR_WIRE_PREFIX)) return reviveActorHandle(wire);
  const [id, nodeId, clientId] = wire.split('|');
  return new ObjectRef(id!, { nodeId: nodeId ?? '', clientId: clientId ?? '' });
}

const encodeOptions = {
  isRef: (v: object) => (v instanceof ObjectRef ? refWireId(v) : v instanceof ActorHandleBase ? actorWireId(v) : undefined),
};
const decodeOptions = { reviveRef };

export function encodeForStore(value: unknown, what: string): Encoded {
  try {
    return encodeValue(value, { ...encodeOptions, path: what });
  } catch (err) {
    if (err instanceof SerializationError) throw err;
    throw new SerializationError(`cannot serialize ${what}: ${(err as Error).message}`);
  }
}

export function sizeOf(e: Encoded): number {
  return encodedSize(e, 0);
}

/** The encoded value as one contiguous block (for values that travel inline). */
export function toInline(e: Encoded, size = sizeOf(e)): Uint8Array {
  const buf = Buffer.allocUnsafe(size);
  writeEncoded(e, buf);
  return buf;
}

export function writeTo(e: Encoded, target: Uint8Array): void {
  writeEncoded(e, target);
}

/** One-shot encode for small things (errors, arguments that are always inline). */
export function encode(value: unknown, what: string): Uint8Array {
  return toInline(encodeForStore(value, what));
}

export function decode(bytes: Uint8Array): unknown {
  return decodeFromBuffer(bytes, decodeOptions);
}

/** Decodes a block in shared memory without copying its binary sections. */
export function decodeInPlace(view: Uint8Array): unknown {
  return readEncoded(view, decodeOptions);
}
