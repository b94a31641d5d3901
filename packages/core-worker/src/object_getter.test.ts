import { describe, expect, it } from 'vitest';
import { GetTimeoutError, ObjectLostError, OwnerDiedError } from './errors.js';
import { MemoryStore } from './memory_store.js';
import { ObjectGetter } from './object_getter.js';
import { ObjectRef } from './object_ref.js';
import type { OwnedState } from './protocol/messages.js';

const ME = { nodeId: 'n1', clientId: 'c1' };
const ref = (id: string, owner = ME) => new ObjectRef(id, owner);
const inline = (n: number) => ({ kind: 'inline' as const, data: new Uint8Array([n]) });

/** A getter over fakes: values decode to their first byte; plasma reads fail while `lost` holds the id. */
function setup() {
  const store = new MemoryStore();
  const log: string[] = [];
  const lost = new Set<string>();
  const owners = new Map<string, OwnedState | 'gone'>();
  const getter = new ObjectGetter({
    store,
    transport: {
      request: (async (m: { type: string; objectId?: string }) => {
        const known = owners.get(m.objectId ?? '');
        if (known === 'gone') return { type: 'reply', reqId: 1, ok: false, error: 'the owner is not connected' };
        return { type: 'reply', reqId: 1, ok: true, info: known ?? { status: 'unknown' } };
      }) as never,
    },
    plasma: {
      readPlasma: async (id: string) => {
        log.push(`read ${id}`);
        if (lost.has(id)) throw new ObjectLostError(`${id} is lost`);
        return `value of ${id}`;
      },
    },
    decoder: { decode: (b: Uint8Array) => b[0], decodeInPlace: () => undefined, decodeStreamed: () => undefined },
    lineage: {
      reconstruct: (id: string) => {
        log.push(`reconstruct ${id}`);
        lost.delete(id);
        store.reset(id);
        setImmediate(() => store.resolve(id, { status: 'ready', value: { kind: 'plasma', nodeId: 'n2', size: 8 } }));
      },
    },
    references: { free: (id: string) => { log.push(`free ${id}`); return store.get(id) !== undefined && (store.delete(id), true); } },
    releaser: { flush: async () => undefined },
    blocking: { block: () => log.push('block'), unblock: () => log.push('unblock') },
  });
  return { store, getter, log, lost, owners };
}

describe('ObjectGetter', () => {
  it('waits for pending refs (blocked meanwhile) and returns values in order', async () => {
    const t = setup();
    t.store.addPending('a');
    t.store.resolve('b', { status: 'ready', value: inline(2) });
    const values = t.getter.get([ref('a'), ref('b')]);
    setImmediate(() => t.store.resolve('a', { status: 'ready', value: inline(1) }));
    expect(await values).toEqual([1, 2]);
    expect(t.log).toEqual(['block', 'unblock']);
  });

  it('times out with GetTimeoutError, and unblocks', async () => {
    const t = setup();
    t.store.addPending('a');
    await expect(t.getter.get([ref('a')], 10)).rejects.toBeInstanceOf(GetTimeoutError);
    expect(t.log).toEqual(['block', 'unblock']);
  });

  it('rebuilds a lost stored value through lineage and reads it again', async () => {
    const t = setup();
    t.store.resolve('a', { status: 'ready', value: { kind: 'plasma', nodeId: 'n2', size: 8 } });
    t.lost.add('a');
    expect(await t.getter.get([ref('a')])).toEqual(['value of a']);
    expect(t.log).toEqual(['read a', 'reconstruct a', 'read a']);
  });

  it('borrows refs it does not own from their owner; a gone owner or a freed object fail', async () => {
    const t = setup();
    const other = { nodeId: 'n9', clientId: 'c9' };
    t.owners.set('x', { status: 'ready', value: inline(9) });
    t.owners.set('y', 'gone');
    expect(await t.getter.get([ref('x', other)])).toEqual([9]);
    await expect(t.getter.get([ref('y', other)])).rejects.toBeInstanceOf(OwnerDiedError);
    await expect(t.getter.get([ref('z', other)])).rejects.toThrow(/no longer has it/);
  });

  it('a borrowed stored value that is lost is not rebuilt here: ObjectLostError says only its owner rebuilds it', async () => {
    const t = setup();
    const other = { nodeId: 'n9'.repeat(28), clientId: 'c9' };
    t.owners.set('x', { status: 'ready', value: { kind: 'plasma', nodeId: 'n2', size: 8 } });
    t.lost.add('x');
    await expect(t.getter.get([ref('x', other)])).rejects.toThrow(/x is lost\. .* is borrowed from client c9 .*only its owner rebuilds lost objects/);
    expect(t.log).toEqual(['read x']); // read, not rebuilt
  });

  it('wait gives refs in completion order, at most numReturns, and honours its timeout', async () => {
    const t = setup();
    for (const id of ['a', 'b', 'c']) t.store.addPending(id);
    const refs = [ref('a'), ref('b'), ref('c')];
    t.store.resolve('c', { status: 'ready', value: inline(3) });
    t.store.resolve('a', { status: 'ready', value: inline(1) });
    const [ready, notReady] = await t.getter.wait(refs, 2);
    expect(ready.map((r) => r.id)).toEqual(['c', 'a']);
    expect(notReady.map((r) => r.id)).toEqual(['b']);
    const [none] = await t.getter.wait([ref('b')], 1, 10);
    expect(none).toEqual([]);
  });
});
