/** MemoryStore on its own: settling, and what a settled inline value keeps alive. */
import { describe, expect, it } from 'vitest';
import { serialize, deserialize } from 'node:v8';
import { MemoryStore } from './memory_store.js';

describe('MemoryStore', () => {
  it('an inline value that is a view into a whole received message is stored as its own bytes', () => {
    // What a deserialized outcome looks like: its value's bytes are a view into the message buffer.
    const message = serialize({ padding: 'x'.repeat(60_000), value: { kind: 'inline', data: new Uint8Array([1, 2, 3]) } });
    const received = deserialize(message) as { value: { kind: 'inline'; data: Uint8Array } };
    expect(received.value.data.buffer.byteLength).toBeGreaterThan(60_000);
    const store = new MemoryStore();
    store.addPending('a');
    store.resolve('a', { status: 'ready', value: received.value });
    const state = store.get('a');
    if (state?.status !== 'ready' || state.value.kind !== 'inline') throw new Error(`not ready inline: ${JSON.stringify(state)}`);
    expect([...state.value.data]).toEqual([1, 2, 3]);
    expect(state.value.data.buffer).not.toBe(received.value.data.buffer);
    expect(state.value.data.buffer.byteLength).toBeLessThan(60_000);
  });

  it('a value that owns its buffer is kept as it is; waiters run once it settles', () => {
    const store = new MemoryStore();
    const data = new Uint8Array([7]);
    let woken = 0;
    store.addPending('b');
    store.onSettled('b', () => { woken += 1; });
    store.resolve('b', { status: 'ready', value: { kind: 'inline', data } });
    const state = store.get('b');
    expect(state?.status === 'ready' && state.value.kind === 'inline' && state.value.data).toBe(data);
    expect(woken).toBe(1);
  });

  it('pending objects share one entry until one is waited on or settles: each settles on its own', async () => {
    const store = new MemoryStore();
    for (const id of ['p1', 'p2', 'p3']) store.addPending(id);
    const woken: string[] = [];
    const one = () => woken.push('one');
    store.onSettled('p1', one);
    store.onSettled('p2', one); // the same callback on two entries
    store.onSettled('p2', () => woken.push('second on p2'));
    const settledP3 = store.whenSettled('p3').then(() => woken.push('p3'));
    store.resolve('p2', { status: 'ready', value: { kind: 'inline', data: new Uint8Array([2]) } });
    expect(woken).toEqual(['one', 'second on p2']);
    expect(store.get('p1')?.status).toBe('pending');
    expect(store.get('p3')?.status).toBe('pending');
    store.resolve('p1', { status: 'failed', failure: { type: 'APPLICATION', message: 'x' }, taskName: 't' });
    store.resolve('p3', { status: 'ready', value: { kind: 'inline', data: new Uint8Array([3]) } });
    await settledP3;
    expect(woken).toEqual(['one', 'second on p2', 'one', 'p3']);
    expect(store.readyOrder('p2')).toBeLessThan(store.readyOrder('p1'));
    // A retry makes it pending again; it settles anew.
    store.reset('p1');
    expect(store.get('p1')?.status).toBe('pending');
    expect(store.readyOrder('p3')).toBeGreaterThan(0);
    store.addPending('p4');
    store.reset('p4');
    expect(store.get('p4')?.status).toBe('pending');
    expect(store.get('p2')?.status).toBe('ready');
  });
});
