/**
 * The object requests of the local socket (create, seal, get, release, delete, stats, and asking an
 * object's owner), answered with a reply to the client. A failure is replied as
 * `{ ok: false, error, errorType }` with the error's class name, which the client turns back into
 * its own error class.
 */
import type { ClientPool, RayletClient } from '@rayts/common';
import type { ObjectManager } from './object_manager.js';
import type { LocalClient, LocalClients } from './local_clients.js';
import type { ClientMessage, OwnedState } from './protocol.js';
import type { NodeDirectory } from './task_router.js';
import { ownedFromProto } from './task_proto.js';
import { OwnerDiedError } from './errors.js';

/** A request of the local socket that the client waits a reply for. */
export type LocalRequest = Extract<ClientMessage, { reqId: number }>;

export type ObjectRequestTarget = Pick<ObjectManager, 'create' | 'seal' | 'get' | 'release' | 'delete' | 'store'>;

export interface LocalObjectRequestsDeps {
  nodeId: string;
  objects: ObjectRequestTarget;
  /** Owners connected here. */
  owners: Pick<LocalClients, 'askOwner'>;
  /** Owners on other nodes are asked through their raylet. */
  nodes: NodeDirectory;
  raylets: ClientPool<RayletClient>;
}

export class LocalObjectRequests {
  constructor(private readonly deps: LocalObjectRequestsDeps) {}

  async handle(client: LocalClient, m: LocalRequest): Promise<void> {
    const { objects } = this.deps;
    const reply = (fields: { offset?: number; size?: number; info?: unknown } = {}) => client.conn.send({ type: 'reply', reqId: m.reqId, ok: true, ...fields });
    try {
      switch (m.type) {
        case 'objCreate': {
          const loc = await objects.create(m.objectId, m.size);
          return reply({ offset: loc.offset, size: loc.size });
        }
        case 'objSeal':
          objects.seal(m.objectId);
          return reply();
        case 'objGet': {
          const loc = await objects.get(client.clientId, m.objectId, m.nodeId);
          return reply({ offset: loc.offset, size: loc.size });
        }
        case 'objRelease':
          objects.release(client.clientId, m.objectIds);
          return reply();
        case 'objDelete':
          await objects.delete(m.objects);
          return reply();
        case 'ownerGet': {
          const state = await this.askOwner(m.owner, m.objectId);
          if (!state) throw new OwnerDiedError('the owner is not connected');
          return reply({ info: state });
        }
        case 'objStats':
          return reply({ info: objects.store.stats() });
        default:
          client.conn.send({ type: 'reply', reqId: m.reqId, ok: false, error: `unknown request ${m.type}` });
      }
    } catch (err) {
      const e = err as Error;
      client.conn.send({ type: 'reply', reqId: m.reqId, ok: false, error: e.message, errorType: e.name });
    }
  }

  /** What the owner (here or on its node) says of its object; undefined when it is not connected. */
  private async askOwner(owner: { nodeId: string; clientId: string }, objectId: string): Promise<OwnedState | undefined> {
    if (owner.nodeId === this.deps.nodeId) return this.deps.owners.askOwner(owner.clientId, objectId);
    const address = this.deps.nodes.addressOf(owner.nodeId);
    if (!address) return undefined;
    return ownedFromProto(await this.deps.raylets.get(address).getFromOwner(objectId, owner.clientId));
  }
}
