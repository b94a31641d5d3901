/** The replies of object requests on the local socket, errors included (their wire shape is the core worker's contract). */
import { describe, expect, it } from 'vitest';
import { ClientPool, ObjectStoreFullError, type RayletClient } from '@rayts/common';
import { LocalObjectRequests, type LocalRequest, type ObjectRequestTarget } from './local_object_requests.js';
import { ObjectLostError } from './errors.js';
import type { LocalClient } from './local_clients.js';

const NODE = 'n1';

function setup(objects: Partial<ObjectRequestTarget>) {
  const sent: unknown[] = [];
  const client = { clientId: 'driver-1', role: 'driver', pid: 1, jobId: 'j', jobDir: '', conn: { send: (m: unknown) => sent.push(m) } } as unknown as LocalClient;
  const requests = new LocalObjectRequests({
    nodeId: NODE, objects: objects as ObjectRequestTarget,
    owners: { askOwner: async () => undefined },
    nodes: { addressOf: () => undefined, otherAddresses: () => [] },
    raylets: new ClientPool<RayletClient>(() => { throw new Error('no remote raylet in this test'); }),
  });
  const ask = async (m: LocalRequest) => { await requests.handle(client, m); return sent.pop(); };
  return { ask };
}

describe('LocalObjectRequests', () => {
  it('replies with the location of a created or fetched object', async () => {
    const { ask } = setup({ create: async () => ({ offset: 64, size: 10 }), get: async () => ({ offset: 128, size: 20 }) });
    expect(await ask({ type: 'objCreate', reqId: 1, objectId: 'o1', size: 10, owner: { nodeId: NODE, clientId: 'driver-1' } }))
      .toEqual({ type: 'reply', reqId: 1, ok: true, offset: 64, size: 10 });
    expect(await ask({ type: 'objGet', reqId: 2, objectId: 'o1', nodeId: NODE, size: 20 }))
      .toEqual({ type: 'reply', reqId: 2, ok: true, offset: 128, size: 20 });
  });

  it('names the error class of a failure: lost objects, a full store, an owner that is gone', async () => {
    const { ask } = setup({
      get: async () => { throw new ObjectLostError('object o1 is not on node n1'); },
      create: async () => { throw new ObjectStoreFullError('no room for 10 bytes'); },
    });
    expect(await ask({ type: 'objGet', reqId: 3, objectId: 'o1', nodeId: NODE, size: 1 }))
      .toEqual({ type: 'reply', reqId: 3, ok: false, error: 'object o1 is not on node n1', errorType: 'ObjectLostError' });
    expect(await ask({ type: 'objCreate', reqId: 4, objectId: 'o2', size: 10, owner: { nodeId: NODE, clientId: 'driver-1' } }))
      .toEqual({ type: 'reply', reqId: 4, ok: false, error: 'no room for 10 bytes', errorType: 'ObjectStoreFullError' });
    expect(await ask({ type: 'ownerGet', reqId: 5, objectId: 'o3', owner: { nodeId: NODE, clientId: 'driver-9' } }))
      .toEqual({ type: 'reply', reqId: 5, ok: false, error: 'the owner is not connected', errorType: 'OwnerDiedError' });
    // An owner on a node that is not alive is as gone as one that disconnected.
    expect(await ask({ type: 'ownerGet', reqId: 6, objectId: 'o3', owner: { nodeId: 'n2', clientId: 'driver-9' } }))
      .toMatchObject({ ok: false, errorType: 'OwnerDiedError' });
  });
});
