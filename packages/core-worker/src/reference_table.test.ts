import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { pollUntil } from '@rayts/common';
import { CallSiteRecorder } from './call_site.js';
import { Lineage } from './lineage.js';
import { MemoryStore } from './memory_store.js';
import { ObjectRef } from './object_ref.js';
import { ObjectReleaser } from './object_releaser.js';
import { ReferenceTable } from './reference_table.js';
import { refWireId } from './serialization.js';
import type { TaskRecord } from './task_manager.js';
import type { ClientRequest, TaskSpec } from './protocol/messages.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type ObjDelete = Extract<ClientRequest, { type: 'objDelete' }>;
const SELF = { nodeId: 'n1', clientId: 'c1' };
const OTHER = { nodeId: 'n2', clientId: 'c2' };
const inline = { kind: 'inline' as const, data: new Uint8Array([1]) };

function setup() {
  const store = new MemoryStore();
  const lineage = new Lineage<TaskRecord>();
  const deleted: string[] = [];
  const releaser = new ObjectReleaser({
    store, lineage, transport: { request: (async (m: ObjDelete) => { deleted.push(...m.objects.map((o) => o.objectId)); return { type: 'reply', reqId: 0, ok: true }; }) as never },
  });
  const refs = new ReferenceTable(store, new CallSiteRecorder(false), SELF, releaser);
  /** An owned object, ready (`plasma`: in a store), whose only ref is made and dropped inside this call. */
  const dropped = (id: string, plasma = false): void => {
    store.addPending(id);
    store.resolve(id, { status: 'ready', value: plasma ? { kind: 'plasma', nodeId: 'n1', size: 1 << 20 } : inline });
    refs.created(new ObjectRef(id, SELF));
  };
  /** Collects garbage until `id` left the store (or the deadline passed). */
  const releasedSoon = (id: string) => pollUntil(() => { gc(); return store.get(id) === undefined; }, 5000, 10);
  /** Collects garbage a few times: `id` must still be there. */
  const stillThere = async (id: string) => {
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 5));
    }
    return store.get(id) !== undefined;
  };
  return { store, lineage, refs, releaser, deleted, dropped, releasedSoon, stillThere };
}

function record(id: string, argRefs: string[], copies: string[] = []): TaskRecord {
  const args = [...argRefs, ...copies].map((objectId) => ({ kind: 'plasma' as const, objectId, nodeId: 'n1', size: 1 }));
  return {
    spec: { returnId: id, args } as unknown as TaskSpec, state: 'running', retriesLeft: 1, oomRetriesLeft: 1, retryExceptions: false, argRefs, info: {} as never, events: -1,
    heldByLineage: false,
  };
}

describe('ReferenceTable: what this process owns is released once nothing holds it', () => {
  it('releases an object once its last ref is collected, and deletes its store copy', async () => {
    const t = setup();
    t.dropped('small');
    t.dropped('big', true);
    expect(await t.releasedSoon('small')).toBe(true);
    expect(await t.releasedSoon('big')).toBe(true);
    await pollUntil(() => t.deleted.includes('big'), 5000);
    expect(t.deleted).toEqual(['big']); // an inline value has no store copy
  });

  it('keeps an object while a ref is alive, and counts every ref decoded here', async () => {
    const t = setup();
    const kept = t.refs.created(new ObjectRef('kept', SELF));
    t.store.addPending('kept');
    t.store.resolve('kept', { status: 'ready', value: inline });
    const again = t.refs.decoded(new ObjectRef('kept', SELF));
    expect(await t.stillThere('kept')).toBe(true);
    expect(kept.id).toBe(again.id);
  });

  it('does not count refs owned by others', () => {
    const t = setup();
    t.store.addPending('theirs');
    t.refs.decoded(new ObjectRef('theirs', OTHER));
    expect(t.refs.refsInfo(() => 0)).toHaveLength(1);
  });

  it('lets a task whose result nobody holds finish, then releases the result', async () => {
    const t = setup();
    t.store.addPending('fire-and-forget');
    t.refs.created(new ObjectRef('fire-and-forget', SELF));
    expect(await t.stillThere('fire-and-forget')).toBe(true);
    t.store.resolve('fire-and-forget', { status: 'ready', value: { kind: 'plasma', nodeId: 'n1', size: 10 } });
    expect(await t.releasedSoon('fire-and-forget')).toBe(true);
  });

  it('keeps an argument of a task in flight, and of a task kept as lineage, until they end', async () => {
    const t = setup();
    t.dropped('arg');
    t.refs.addPendingArgs(['arg']);
    expect(await t.stillThere('arg')).toBe(true);
    // The task finished with a stored output: kept as lineage, holding its argument and its stored argument value.
    const task = record('out', ['arg'], ['copy']);
    t.lineage.keep('out', task);
    task.heldByLineage = true;
    t.refs.holdForLineage(['arg']);
    t.refs.releasePendingArgs(['arg']);
    expect(await t.stillThere('arg')).toBe(true);
    // The output goes: its lineage, its argument and the stored argument value with it.
    t.dropped('out', true);
    expect(await t.releasedSoon('out')).toBe(true);
    expect(await t.releasedSoon('arg')).toBe(true);
    await pollUntil(() => t.deleted.includes('copy'), 5000);
    expect(t.deleted.sort()).toEqual(['copy', 'out']);
    expect(t.lineage.size).toBe(0);
  });

  it('keeps an object whose ref left inside a value, and one read in place while the value lives', async () => {
    const t = setup();
    t.dropped('nested');
    t.refs.captureRefs([refWireId(new ObjectRef('nested', SELF))]);
    expect(await t.stillThere('nested')).toBe(true);
    t.dropped('read', true);
    t.refs.pinValue('read');
    expect(await t.stillThere('read')).toBe(true);
    t.refs.unpinValue('read');
    expect(await t.releasedSoon('read')).toBe(true);
  });

  it('frees on request whatever holds the object', async () => {
    const t = setup();
    const ref = t.refs.created(new ObjectRef('freed', SELF));
    t.store.addPending('freed');
    t.store.resolve('freed', { status: 'ready', value: { kind: 'plasma', nodeId: 'n1', size: 10 } });
    expect(t.refs.free(ref.id)).toBe(true);
    expect(t.store.get('freed')).toBeUndefined();
    expect(await t.releaser.flush()).toMatchObject({ ok: true });
    expect(t.deleted).toEqual(['freed']);
  });
});
