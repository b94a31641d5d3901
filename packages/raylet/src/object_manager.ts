/**
 * The raylet's object manager: this node's store (an mmap'd arena shared with its workers and
 * drivers), the pins each local client holds (released when the client goes), pulls of objects from
 * other nodes (over the raylets' raw side channel, or chunked over their gRPC stream with TLS; cached
 * here as secondary copies, one pull per object at a time), and deletes routed to every node.
 */
import { ClusterUnreachableError, formatBytes, type ClientPool, type Logger, type RayletClient } from '@rayts/common';
import { SpilledObjectLostError, type ObjectStore } from '@rayts/object-store';
import { fetchObject, type ServedObject } from './object_transfer.js';
import { ObjectHolderUnreachableError, ObjectLostError, ObjectTransferError } from './errors.js';
import type { NodeDirectory } from './task_router.js';
import type { UnreachableNodes } from './unreachable_nodes.js';

export interface ObjectLocation {
  offset: number;
  size: number;
}

/** Whoever can ask this node's drivers and workers to collect garbage (so dead values release their pins). */
export interface GarbageCollectors {
  requestGc(clientIds: Iterable<string>): void;
}

export interface ObjectManagerOptions {
  store: ObjectStore;
  nodeId: string;
  nodes: NodeDirectory;
  /** Nodes calls failed on: a pull that cannot reach its node adds it (placement then avoids it; the pull itself is still tried). */
  unreachable: Pick<UnreachableNodes, 'mark'>;
  /** Clients of the other raylets (shared with the task router). */
  raylets: ClientPool<RayletClient>;
  collectors: GarbageCollectors;
  /** The cluster token when pulls may use the raylets' raw side channel (clusters without TLS). */
  sideChannelToken?: string;
  /** While a create waits for space, local clients are asked to collect garbage at most this often. */
  gcRequestIntervalMs: number;
  /** Chunk size of PullObject streams. */
  pullChunkBytes: number;
  logger: Logger;
}

export class ObjectManager {
  readonly store: ObjectStore;
  /** clientId -> objectId -> pin count. */
  private readonly pins = new Map<string, Map<string, number>>();
  private readonly pulls = new Map<string, Promise<void>>();
  private lastGcRequest = 0;
  /** Pins released since the last request to collect garbage: that request freed something. */
  private releasedSinceGc = 0;
  /** Time before the next request: a tenth of the interval after one that freed pins, doubling up to the interval after each that did not. */
  private gcGapMs = 0;

  constructor(private readonly options: ObjectManagerOptions) {
    this.store = options.store;
  }

  private get nodeId(): string {
    return this.options.nodeId;
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  /**
   * Runs a store operation; while it waits for space, the local clients are asked (at most every
   * gcRequestIntervalMs) to collect garbage, so values nobody references any more release their
   * pins (only the clients that hold pins are asked: a collection costs a driver tens of ms).
   * The first request leaves the moment the store starts waiting (`spaceShort`), the next ones are
   * checked ten times per interval while the operation lasts. After a request that released pins (a
   * driver reading spilled objects one after another drops each value before the next get) the next
   * may follow after a tenth of the interval, and the gap doubles after each that released none: V8
   * often frees a value only at the second collection after it died, and waiting a whole interval
   * each time would make every such read wait for it.
   */
  private async withSpace<T>(op: Promise<T>): Promise<T> {
    const timer = setInterval(() => this.spaceShort(), this.gcTickMs);
    try {
      return await op;
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * Space is short (the store waits for readers' pins to go, or an operation is still waiting): the
   * clients holding pins are asked to collect now, if the pacing allows.
   */
  spaceShort(): void {
    if (this.pins.size === 0) return;
    const tick = this.gcTickMs;
    const gap = this.releasedSinceGc > 0 ? tick : this.gcGapMs;
    if (Date.now() - this.lastGcRequest < gap) return;
    this.gcGapMs = Math.min(this.options.gcRequestIntervalMs, Math.max(tick, gap * 2));
    this.lastGcRequest = Date.now();
    this.releasedSinceGc = 0;
    this.options.collectors.requestGc(this.pins.keys());
  }

  private get gcTickMs(): number {
    return Math.max(1, this.options.gcRequestIntervalMs / 10);
  }

  private pin(clientId: string, objectId: string): void {
    let m = this.pins.get(clientId);
    if (!m) this.pins.set(clientId, (m = new Map()));
    m.set(objectId, (m.get(objectId) ?? 0) + 1);
  }

  async create(objectId: string, size: number): Promise<ObjectLocation> {
    // An unsealed object is never evicted or spilled, so the creator needs no pin while it writes.
    const created = await this.withSpace(this.store.create(objectId, size, { primary: true }));
    return { offset: created.offset, size: created.size };
  }

  seal(objectId: string): void {
    this.store.seal(objectId);
  }

  /** Pins the object for the client, pulling it from `fromNode` first when it is not here. */
  async get(clientId: string, objectId: string, fromNode: string): Promise<ObjectLocation> {
    if (!this.store.contains(objectId) && fromNode && fromNode !== this.nodeId) await this.pull(objectId, fromNode);
    const pinned = await this.withSpace(this.store.get(objectId)).catch((err: unknown) => {
      // The store already dropped the object; the reader's owner decides: rebuild or ObjectLostError.
      if (err instanceof SpilledObjectLostError) throw new ObjectLostError(err.message);
      throw err;
    });
    if (!pinned) {
      throw new ObjectLostError(`object ${objectId} is not on node ${this.nodeId.slice(0, 12)}…${fromNode && fromNode !== this.nodeId ? ` nor on ${fromNode.slice(0, 12)}…` : ''}`);
    }
    this.pin(clientId, objectId);
    return { offset: pinned.offset, size: pinned.size };
  }

  release(clientId: string, objectIds: string[]): void {
    const m = this.pins.get(clientId);
    if (!m) return;
    for (const id of objectIds) {
      const n = m.get(id);
      if (!n) continue;
      if (n === 1) m.delete(id);
      else m.set(id, n - 1);
      this.store.release(id);
      this.releasedSinceGc += 1;
    }
    if (m.size === 0) this.pins.delete(clientId);
  }

  /** A client disconnected: every pin it held goes. */
  clientGone(clientId: string): void {
    const m = this.pins.get(clientId);
    if (!m) return;
    this.pins.delete(clientId);
    for (const [id, n] of m) for (let i = 0; i < n; i++) this.store.release(id);
  }

  deleteLocal(objectIds: string[]): number {
    let deleted = 0;
    for (const id of objectIds) if (this.store.delete(id)) deleted += 1;
    return deleted;
  }

  /**
   * Deletes objects everywhere: the primary copy (here or on the node that made it) and the secondary
   * copies other nodes pulled (any node may hold one, so every alive node is told).
   */
  async delete(objects: { objectId: string; nodeId: string }[]): Promise<void> {
    const ids = objects.map((o) => o.objectId);
    this.deleteLocal(ids);
    // Every other alive node, the primary's among them (a dead one holds nothing to free).
    await Promise.all(this.options.nodes.otherAddresses().map((address) => this.options.raylets.get(address).deleteObjects(ids)
      .catch((err: Error) => this.logger.warn('remote delete failed', { address, error: err.message }))));
  }

  private pull(objectId: string, fromNode: string): Promise<void> {
    let p = this.pulls.get(objectId);
    if (!p) {
      p = this.doPull(objectId, fromNode).finally(() => this.pulls.delete(objectId));
      this.pulls.set(objectId, p);
    }
    return p;
  }

  /** Pins an object for a transfer to another node; undefined when it is not here. */
  async pinForTransfer(objectId: string): Promise<ServedObject | undefined> {
    const pinned = await this.store.get(objectId).catch(() => undefined);
    if (!pinned) return undefined;
    this.store.arena.populate(pinned.offset, pinned.size, 'read');
    return { view: pinned.view, release: () => this.store.release(objectId) };
  }

  private async doPull(objectId: string, fromNode: string): Promise<void> {
    const address = this.options.nodes.addressOf(fromNode);
    if (!address) throw new ObjectLostError(`node ${fromNode.slice(0, 12)}… that holds object ${objectId} is not alive`);
    const token = this.options.sideChannelToken;
    if (token) return this.pullRaw(objectId, fromNode, address, token);
    const client = this.options.raylets.get(address);
    const started = performance.now();
    let view: Uint8Array | undefined;
    let received = 0;
    let total = 0;
    // Chunks arrive in order; the store allocates on the first one (its total_size).
    const pending: Array<{ offset: number; data: Buffer }> = [];
    let creating: Promise<void> | undefined;
    // A create that fails (the store is full) must not become an unhandled rejection while the
    // stream still runs: it is kept and thrown, as itself, once the stream ended.
    let createError: Error | undefined;
    try {
      await client.pullObject(objectId, (chunk) => {
        if (!creating) {
          total = chunk.totalSize;
          creating = this.withSpace(this.store.create(objectId, total, { primary: false })).then((c) => {
            view = c.view;
            for (const p of pending.splice(0)) view.set(p.data, p.offset);
          }, (err: Error) => {
            createError = err;
            pending.length = 0;
          });
        }
        if (view) view.set(chunk.data, chunk.offset);
        else if (!createError) pending.push({ offset: chunk.offset, data: chunk.data });
        received += chunk.data.length;
      });
      await creating;
    } catch (err) {
      await creating;
      if (view) this.store.delete(objectId);
      if (err instanceof ClusterUnreachableError) this.options.unreachable.mark(fromNode, address, (err as Error).message);
      throw new ObjectLostError(`could not pull object ${objectId} (${formatBytes(total)}) from ${address}: ${(err as Error).message}`);
    }
    if (createError) throw createError;
    if (!view || received !== total) {
      this.store.delete(objectId);
      throw new ObjectLostError(`pull of ${objectId} from ${address} ended after ${received} of ${total} bytes`);
    }
    this.store.seal(objectId);
    const ms = performance.now() - started;
    this.logger.debug('pulled object', { objectId, bytes: total, ms: Math.round(ms), from: fromNode, MiBps: Math.round(total / 1048576 / (ms / 1000)) });
  }

  /** A pull over the side channel: the holder writes from its arena, this raylet copies into its own. */
  private async pullRaw(objectId: string, fromNode: string, address: string, token: string): Promise<void> {
    const started = performance.now();
    let created = false;
    let size = 0;
    try {
      size = await fetchObject(address, token, objectId, async (total) => {
        const c = await this.withSpace(this.store.create(objectId, total, { primary: false }));
        created = true;
        this.store.arena.populate(c.offset, total, 'write');
        return c.view;
      });
    } catch (err) {
      if (created) this.store.delete(objectId);
      if (!(err instanceof ObjectTransferError)) throw err; // the store's own error (full, out of disk)
      if (err instanceof ObjectHolderUnreachableError) this.options.unreachable.mark(fromNode, address, err.message);
      throw new ObjectLostError(`could not pull object ${objectId} from ${address}: ${err.message}`);
    }
    this.store.seal(objectId);
    const ms = performance.now() - started;
    this.logger.debug('pulled object', { objectId, bytes: size, ms: Math.round(ms), from: fromNode, MiBps: Math.round(size / 1048576 / (ms / 1000)) });
  }

  /** Serves PullObject: pins, streams the bytes in chunks, releases. */
  async serve(objectId: string, write: (chunk: { offset: number; totalSize: number; data: Buffer }) => Promise<void>): Promise<boolean> {
    const pinned = await this.store.get(objectId);
    if (!pinned) return false;
    const chunk = this.options.pullChunkBytes;
    try {
      for (let offset = 0; offset < pinned.size || (offset === 0 && pinned.size === 0); offset += chunk) {
        const end = Math.min(pinned.size, offset + chunk);
        await write({ offset, totalSize: pinned.size, data: Buffer.from(pinned.view.buffer, pinned.view.byteOffset + offset, end - offset) });
        if (pinned.size === 0) break;
      }
    } finally {
      this.store.release(objectId);
    }
    return true;
  }
}
