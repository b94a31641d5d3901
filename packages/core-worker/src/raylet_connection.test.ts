import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FramedConnection } from '@rayts/common';
import { RayletConnection, type RayletInbox } from './raylet_connection.js';
import type { ClientMessage, Execute, RayletMessage, TaskSpec, Welcome } from './protocol/messages.js';

const WELCOME: Welcome = {
  type: 'welcome', clientId: 'c1', nodeId: 'n1', nodeIp: '127.0.0.1', arenaPath: '/dev/null', arenaSize: 0, arenaSegmentSize: 0, maxInlineBytes: 100, gcsAddress: 'x',
};
const TASK = { taskId: 't1' } as TaskSpec;
const HELLO = { type: 'hello', role: 'worker', token: 'tok', workerId: 'w1', pid: 1 } as const;

/** A raylet stand-in on a Unix socket: `onHello` answers the hello; `peer` is the server's end. */
function fakeRaylet(onHello: (peer: FramedConnection<ClientMessage, RayletMessage>) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'rayts-conn-'));
  const path = join(dir, 'raylet.sock');
  const received: ClientMessage[] = [];
  let peer: FramedConnection<ClientMessage, RayletMessage> | undefined;
  const server: Server = createServer((socket) => {
    peer = new FramedConnection<ClientMessage, RayletMessage>(socket);
    peer.on('message', (m) => {
      received.push(m);
      if (m.type === 'hello') onHello(peer!);
    });
  });
  const listening = new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(() => { server.close(); rmSync(dir, { recursive: true, force: true }); });
  return { path, listening, received, peer: () => peer! };
}

function recordingInbox() {
  const got: string[] = [];
  let closed = false;
  const inbox: RayletInbox = {
    taskResult: () => got.push('taskResult'),
    bindJob: (m) => got.push(`bindJob ${m.jobId}`),
    execute: (m: Execute) => got.push(`execute ${m.task.taskId}`),
    createActor: () => got.push('createActor'),
    actorReady: () => got.push('actorReady'),
    logs: () => got.push('logs'),
    collectGarbage: () => got.push('gc'),
    ownerLookup: () => got.push('ownerLookup'),
    refsRequest: () => got.push('refsRequest'),
    closed: () => { closed = true; },
  };
  return { inbox, got, isClosed: () => closed };
}

const cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups.splice(0)) c(); });

const until = async (cond: () => boolean) => { for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5)); };

describe('RayletConnection', () => {
  it('keeps tasks sent in the same packet as the welcome, and delivers them once started, in order', async () => {
    const raylet = fakeRaylet((peer) => {
      peer.send(WELCOME);
      peer.send({ type: 'bindJob', jobId: 'j1', envVars: {} });
      peer.send({ type: 'execute', task: { ...TASK, taskId: 'early1' }, jobDir: '' });
      peer.send({ type: 'execute', task: { ...TASK, taskId: 'early2' }, jobDir: '' });
    });
    await raylet.listening;
    const conn = await RayletConnection.open(raylet.path, HELLO);
    expect(conn.welcome.nodeId).toBe('n1');
    await new Promise((r) => setTimeout(r, 20)); // nothing is lost while no inbox is there
    const { inbox, got } = recordingInbox();
    conn.start(inbox);
    expect(got).toEqual(['bindJob j1', 'execute early1', 'execute early2']);
    raylet.peer().send({ type: 'gc' });
    await until(() => got.length === 4);
    expect(got[3]).toBe('gc');
    conn.close();
  });

  it('matches replies to requests, also before it is started', async () => {
    const raylet = fakeRaylet((peer) => peer.send(WELCOME));
    await raylet.listening;
    const conn = await RayletConnection.open(raylet.path, HELLO);
    const pending = conn.request({ type: 'objCreate', objectId: 'o1', size: 10, owner: { nodeId: 'n1', clientId: 'c1' } });
    await until(() => raylet.received.length === 2);
    const req = raylet.received[1] as { reqId: number };
    raylet.peer().send({ type: 'reply', reqId: req.reqId, ok: true, offset: 64, size: 10 });
    const reply = await pending;
    expect(reply.ok && reply.offset).toBe(64);
    conn.close();
  });

  it('rejects a refusal, and on close rejects pending requests and tells the inbox', async () => {
    const refusing = fakeRaylet((peer) => peer.send({ type: 'refused', reason: 'bad token' }));
    await refusing.listening;
    await expect(RayletConnection.open(refusing.path, HELLO)).rejects.toThrow(/refused this worker: bad token/);

    const raylet = fakeRaylet((peer) => peer.send(WELCOME));
    await raylet.listening;
    const conn = await RayletConnection.open(raylet.path, HELLO);
    const { inbox, isClosed } = recordingInbox();
    conn.start(inbox);
    const pending = conn.request({ type: 'objSeal', objectId: 'o1' });
    await until(() => raylet.received.length === 2);
    raylet.peer().close();
    await expect(pending).rejects.toThrow(/connection closed/);
    expect(isClosed()).toBe(true);
  });
});
