/**
 * This process's view of its node's object store: writing a value that is too large to travel
 * inline, and reading one (in place where the arena is mapped here). A value that aliases the store
 * keeps its object pinned (the raylet holds one pin per object for this process) until the value
 * is garbage collected; the pin is then released.
 */
import { rayletError } from './failure.js';
import { encodeForStore, sizeOf, toInline, type Decoder } from './serialization.js';
import type { ObjectBytes } from './object_bytes.js';
import type { RayletTransport } from './raylet_connection.js';
import type { ReferenceTable } from './reference_table.js';
import type { Address, ClientMessage, ReturnValue, Welcome } from './protocol/messages.js';

export interface PlasmaClientDeps {
  transport: RayletTransport;
  /** The inline limit. */
  welcome: Pick<Welcome, 'maxInlineBytes'>;
  /** How object bytes reach the store: the mapped arena, or a remote client's stream. */
  bytes: ObjectBytes;
  /** This process: the owner of what it stores. */
  owner: Address;
  references: Pick<ReferenceTable, 'pinValue' | 'unpinValue' | 'captureRefs'>;
}

export type StoredValue = ReturnValue & { objectId: string };

export class PlasmaClient {
  /** Where objects this process holds a pin on live in the arena: a second read needs no raylet call. */
  private readonly pinnedAt = new Map<string, { offset: number; size: number }>();
  private readonly pinRegistry = new FinalizationRegistry<string>((id) => {
    if (!this.deps.references.unpinValue(id)) return;
    this.pinnedAt.delete(id);
    this.release(id);
  });

  constructor(private readonly deps: PlasmaClientDeps) {}

  get maxInlineBytes(): number {
    return this.deps.welcome.maxInlineBytes;
  }

  /** Encodes a value: small ones stay inline, large ones are written into this node's store. */
  async storeValue(id: string, value: unknown, what: string): Promise<StoredValue> {
    const e = encodeForStore(value, what);
    this.deps.references.captureRefs(e.refs);
    const size = sizeOf(e);
    if (size <= this.maxInlineBytes) return { kind: 'inline', data: toInline(e, size), objectId: id };
    const created = await this.deps.transport.request({ type: 'objCreate', objectId: id, size, owner: this.deps.owner });
    if (!created.ok) throw rayletError(created, `storing ${what}`);
    await this.deps.bytes.write(created.offset, e, size);
    const sealed = await this.deps.transport.request({ type: 'objSeal', objectId: id });
    if (!sealed.ok) throw rayletError(sealed, `sealing ${what}`);
    return { kind: 'plasma', nodeId: this.deps.owner.nodeId, size, objectId: id };
  }

  /**
   * Reads an object from this node's store (pulled first if it lives elsewhere), without copying it.
   * The decoder is the reader's: refs and handles inside come back bound to its runtime.
   */
  async readPlasma(objectId: string, nodeId: string, decoder: Pick<Decoder, 'decodeInPlace' | 'decodeStreamed'>): Promise<unknown> {
    let at = this.pinnedAt.get(objectId);
    const pinnedHere = !!at;
    if (!at) {
      const got = await this.deps.transport.request({ type: 'objGet', objectId, nodeId, size: 0 });
      if (!got.ok) throw rayletError(got, `reading object ${objectId}`);
      at = { offset: got.offset, size: got.size };
    }
    let read: { value: unknown; shared: boolean };
    try {
      read = await this.deps.bytes.read(at.offset, at.size, decoder);
    } catch (err) {
      if (!pinnedHere) this.release(objectId);
      throw err;
    }
    const { value, shared } = read;
    if (shared && typeof value === 'object' && value !== null) {
      this.pinRegistry.register(value, objectId);
      this.deps.references.pinValue(objectId);
      this.pinnedAt.set(objectId, at);
    } else if (!pinnedHere) {
      this.release(objectId);
    }
    return value;
  }

  /** The session ended: the store is let go (values read in place stay readable while they live). */
  close(): void {
    this.deps.bytes.detach();
  }

  private release(objectId: string): void {
    this.deps.transport.send({ type: 'objRelease', reqId: 0, objectIds: [objectId] } as ClientMessage);
  }
}
