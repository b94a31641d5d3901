import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../processes.js';
import { deserialize } from 'node:v8';
import { BACKLOG_AT_BYTES, BATCH_MAX_MESSAGES, FramedConnection, connectFramed, firstMessage } from './framed.js';
import { FrameReader } from './frame_reader.js';

const cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups.splice(0)) c(); });

/** A Unix-socket server whose side is paused until `resume`; a client framed connection to it. */
async function pair() {
  const dir = mkdtempSync(join(tmpdir(), 'rayts-framed-'));
  const path = join(dir, 's.sock');
  let accepted!: (s: Socket) => void;
  const serverSide = new Promise<Socket>((r) => { accepted = r; });
  const server = createServer((s) => { s.pause(); accepted(s); });
  await new Promise<void>((r) => server.listen(path, r));
  const client = await connectFramed<unknown, { i: number; pad: string }>(path);
  const socket = await serverSide;
  const received: number[] = [];
  let ended = false;
  const reader = new FramedConnection<{ i: number }, unknown>(socket);
  reader.on('message', (m) => received.push(m.i));
  reader.on('close', () => { ended = true; });
  cleanups.push(() => { client.socket.destroy(); socket.destroy(); server.close(); rmSync(dir, { recursive: true, force: true }); });
  return { client, socket, received, isEnded: () => ended };
}

describe('FramedConnection flow control', () => {
  it('keeps messages unserialized while the peer does not read, then delivers all of them in order', async () => {
    const { client, socket, received } = await pair();
    const pad = 'x'.repeat(1024);
    const n = Math.ceil((BACKLOG_AT_BYTES * 3) / 1024);
    for (let i = 0; i < n; i++) client.send({ i, pad });
    // The peer reads nothing: beyond the threshold, messages wait as they are.
    expect(client.backlogLength).toBeGreaterThan(n / 2);
    // At most one batch beyond the threshold (the batch's size is known once it is serialized).
    expect(client.socket.writableLength).toBeLessThan(BACKLOG_AT_BYTES + BATCH_MAX_MESSAGES * (1024 + 64));
    socket.resume();
    expect(await pollUntil(() => received.length === n, 20_000)).toBe(true);
    expect(received).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(client.backlogLength).toBe(0);
  });

  it('close() ends the connection only after what was sent is written', async () => {
    const { client, socket, received, isEnded } = await pair();
    const pad = 'y'.repeat(4096);
    const n = Math.ceil((BACKLOG_AT_BYTES * 2) / 4096);
    for (let i = 0; i < n; i++) client.send({ i, pad });
    expect(client.backlogLength).toBeGreaterThan(0);
    client.close();
    socket.resume();
    expect(await pollUntil(() => isEnded(), 20_000)).toBe(true);
    expect(received.length).toBe(n);
    expect(received[n - 1]).toBe(n - 1);
  });

  it('the messages of one tick travel as one frame holding them in order; a message alone is a frame of its own', async () => {
    const { client, socket } = await pair();
    const bodies: unknown[] = [];
    const frames = new FrameReader((body) => bodies.push(deserialize(body)), 1 << 30);
    socket.on('data', (d: Buffer) => frames.push(d));
    socket.resume();
    const owner = { name: 'shared' };
    client.send({ i: 0, pad: 'a' });
    client.send({ i: 1, pad: 'b', owner } as never);
    client.send({ i: 2, pad: 'c', owner } as never);
    await new Promise((r) => setTimeout(r, 0));
    client.send({ i: 3, pad: 'alone' });
    await new Promise((r) => setTimeout(r, 0));
    const total = BATCH_MAX_MESSAGES + 5; // more than one batch in one tick
    for (let i = 0; i < total; i++) client.send({ i: 100 + i, pad: '' });
    expect(await pollUntil(() => bodies.length >= 4, 10_000)).toBe(true);
    const [first, second, third, fourth] = bodies as [{ i: number; owner?: object }[], { i: number }, { i: number }[], { i: number }[]];
    expect(first.map((m) => m.i)).toEqual([0, 1, 2]);
    expect(first[1]!.owner).toBe(first[2]!.owner); // shared objects arrive shared
    expect(Array.isArray(second)).toBe(false);
    expect(second.i).toBe(3);
    expect(third.length).toBe(BATCH_MAX_MESSAGES);
    expect([...third, ...fourth].map((m) => m.i)).toEqual(Array.from({ length: total }, (_, i) => 100 + i));
  });

  it('a reader takes both forms: batches and lone messages arrive one message at a time, in order', async () => {
    const { client, socket, received } = await pair();
    socket.resume();
    for (let i = 0; i < 3; i++) client.send({ i, pad: '' });
    await new Promise((r) => setTimeout(r, 0));
    client.send({ i: 3, pad: '' });
    expect(await pollUntil(() => received.length === 4, 10_000)).toBe(true);
    expect(received).toEqual([0, 1, 2, 3]);
  });

  it('firstMessage reads the first message of either form (what a reader that wants only the welcome takes)', () => {
    expect(firstMessage({ type: 'welcome' })).toEqual({ type: 'welcome' });
    expect(firstMessage([{ type: 'welcome' }, { type: 'other' }])).toEqual({ type: 'welcome' });
    expect(firstMessage([])).toBeUndefined();
  });

  it('messages sent in the tick that closes the connection are written before it ends', async () => {
    const { client, socket, received, isEnded } = await pair();
    socket.resume();
    for (let i = 0; i < 5; i++) client.send({ i, pad: '' });
    client.close();
    expect(await pollUntil(() => isEnded(), 10_000)).toBe(true);
    expect(received.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
  });
});
