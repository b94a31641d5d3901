import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../processes.js';
import { BACKLOG_AT_BYTES, FramedConnection, connectFramed } from './framed.js';

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
    expect(client.socket.writableLength).toBeLessThan(BACKLOG_AT_BYTES + 64 * 1024);
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
});
