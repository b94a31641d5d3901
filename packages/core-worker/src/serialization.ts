/**
 * How the core worker turns values into bytes and back, through the value codec: binary payloads
 * travel out of band (a large typed array read from this node's store is a view over the shared
 * memory, not a copy), and ObjectRefs and actor handles inside values keep their identity.
 *
 * Encoding needs nothing but the value. Decoding brings refs and handles back to life, and a handle
 * must call through the runtime that decoded it: that is why decoding is a `Serializer` each core
 * worker owns, built with the way it revives actor handles.
 */
import {
  SerializationError, decodeFromBuffer, decodeHeadAndSections, encodeValue, encodedSize, readEncoded, writeEncoded, type Encoded, type EncodedLayout,
} from '@rayts/common';
import { ObjectRef } from './object_ref.js';
import { ACTOR_WIRE_PREFIX, ActorHandleBase, actorWireId, parseActorWireId, type ActorHandleData } from './actor/actor_handle.js';

export { ACTOR_WIRE_PREFIX };

/** A ref's wire id carries its owner: `<object id>|<owner node>|<owner client>`. */
export function refWireId(ref: ObjectRef): string {
  return `${ref.id}|${ref.owner.nodeId}|${ref.owner.clientId}`;
}

/** The object id inside a ref's wire id (undefined for an actor handle's). */
export function objectIdOfWire(wire: string): string | undefined {
  return wire.startsWith(ACTOR_WIRE_PREFIX) ? undefined : wire.slice(0, wire.indexOf('|'));
}

function refOfWire(wire: string): ObjectRef {
  const [id, nodeId, clientId] = wire.split('|');
  return new ObjectRef(id!, { nodeId: nodeId ?? '', clientId: clientId ?? '' });
}

const encodeOptions = {
  isRef: (v: object) => (v instanceof ObjectRef ? refWireId(v) : v instanceof ActorHandleBase ? actorWireId(v) : undefined),
};

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

/** What decoding needs: bytes back to values (a copy, or in place over shared memory). */
export interface Decoder {
  decode(bytes: Uint8Array): unknown;
  decodeInPlace(view: Uint8Array): unknown;
  /** Decodes a block received in pieces: its head (up to the meta's end), its layout, each section's bytes. */
  decodeStreamed(head: Uint8Array, layout: EncodedLayout, sections: readonly Uint8Array[]): unknown;
}

export class Serializer implements Decoder {
  private readonly decodeOptions = { reviveRef: (wire: string) => this.revive(wire) };

  /**
   * @param reviveActor a handle for the actor, calling through this serializer's runtime
   * @param refs counts the refs decoded here whose objects this process owns (ReferenceTable)
   */
  constructor(private readonly reviveActor: (data: ActorHandleData) => ActorHandleBase, private readonly refs: { decoded(ref: ObjectRef): ObjectRef }) {}

  decode(bytes: Uint8Array): unknown {
    return decodeFromBuffer(bytes, this.decodeOptions);
  }

  /** Decodes a block in shared memory without copying its binary sections. */
  decodeInPlace(view: Uint8Array): unknown {
    return readEncoded(view, this.decodeOptions);
  }

  decodeStreamed(head: Uint8Array, layout: EncodedLayout, sections: readonly Uint8Array[]): unknown {
    return decodeHeadAndSections(head, layout, sections, this.decodeOptions);
  }

  private revive(wire: string): ObjectRef | ActorHandleBase {
    return wire.startsWith(ACTOR_WIRE_PREFIX) ? this.reviveActor(parseActorWireId(wire)) : this.refs.decoded(refOfWire(wire));
  }
}
