/**
 * Fuzzing the head's remote-client port (issue 16, the tunnel of `rayts://`): random bytes after the
 * magic, hostile hellos, and, inside sessions opened with the right token, hostile packets (object
 * writes and reads outside the store or before it is known, huge ranges, unknown packet types, garbage
 * where a raylet message belongs, packets out of order, acks from the future). Deterministic per
 * seed (printed; RAYTS_FUZZ_SEED replays it). And well-formed local messages with hostile fields, which
 * the head relays to its node's raylet: the raylet refuses each before any handler runs. Afterwards the head and its raylet are alive, `rayts
 * status` answers, and a real remote driver still runs tasks, an actor and a large object.
 */
import { describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { serialize } from 'node:v8';
import { CLIENT_TUNNEL_MAGIC, FrameKind, PROTOCOL_VERSION, RAYTS_VERSION, jsonFrame, packetHead, ackFrame, type PacketType } from '@rayts/common';
import { alive, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';
import { clientAddressOf, remoteClientEnv } from '../helpers/via_client.js';
import { Rng } from './fuzz_messages.js';

const newCluster = useCluster();

/** Opens a connection, writes `bytes`, and resolves when the head closes it or after `ms` (then closes it). */
function exchange(port: number, bytes: Buffer[], ms: number): Promise<{ closedByHead: boolean; received: number }> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    let received = 0;
    let done = false;
    const finish = (closedByHead: boolean) => { if (done) return; done = true; clearTimeout(timer); s.destroy(); resolve({ closedByHead, received }); };
    const timer = setTimeout(() => finish(false), ms);
    s.on('connect', () => { for (const b of bytes) s.write(b); });
    s.on('data', (d: Buffer) => { received += d.length; });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
  });
}

function packet(seq: number, type: number, req: number, a: number, b: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([packetHead(seq, type as PacketType, req, a, b, payload.length), payload]);
}

describe('the remote-client port under hostile input', () => {
  it('random bytes, hostile hellos and hostile packets: no daemon dies, and a real client still works', async () => {
    const seed = Number(process.env.RAYTS_FUZZ_SEED ?? Date.now() % 1_000_000);
    console.log(`client tunnel fuzz seed ${seed} (RAYTS_FUZZ_SEED=${seed} replays it)`);
    const rng = new Rng(seed);
    const cluster = newCluster({ RAYTS_PORT_FIRST_BYTES_TIMEOUT_MS: '1000' });
    const head = await cluster.startHead({ numCpus: 2 });
    const port = Number(new URL(clientAddressOf(head).replace('rayts://', 'tcp://')).port);
    const token = readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim();
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rng.int(256)));
    const hello = (over: Record<string, unknown> = {}) => jsonFrame(FrameKind.HELLO, { protocolVersion: PROTOCOL_VERSION, raytsVersion: RAYTS_VERSION, token, sessionId: '', received: 0, ...over });
    let sent = 0;

    // 1. Random bytes (and absurd frame lengths) after the magic.
    for (let i = 0; i < 150; i++) {
      const header = Buffer.alloc(4);
      header.writeUInt32LE(rng.pick([0, 1, 5, 70_000, 0xffffffff, rng.int(1 << 20)]), 0);
      await exchange(port, [CLIENT_TUNNEL_MAGIC, header, bytes(rng.int(200))], 300);
      sent++;
    }
    // 2. Hostile hellos: bad JSON, missing or mistyped fields, a wrong token, unknown sessions, huge values.
    const hellos: Buffer[] = [
      Buffer.concat([Buffer.from([6, 0, 0, 0, FrameKind.HELLO]), Buffer.from('{nope')]),
      jsonFrame(FrameKind.HELLO, {}),
      hello({ token: 42 }), hello({ token: 'x'.repeat(60_000) }), hello({ received: -1 }), hello({ received: 1e300 }),
      hello({ sessionId: 'f'.repeat(32) }), hello({ sessionId: 5 }), hello({ protocolVersion: 'one' }), hello({ protocolVersion: 1e9 }),
      jsonFrame(FrameKind.WELCOME, { sessionId: 'x' }), ackFrame(7),
    ];
    for (const h of hellos) { await exchange(port, [CLIENT_TUNNEL_MAGIC, h], 500); sent++; }
    // 3. Sessions opened with the right token, then hostile packets.
    const TWO_53 = 2 ** 53;
    const hostile: Buffer[][] = [
      [packet(1, 2, 1, 0, 1, bytes(64))], // WRITE before the store is known
      [packet(1, 4, 1, 0, 1024)], // READ before the store is known
      [packet(1, 1, 0, 0, 0, bytes(50))], // garbage where the raylet's hello belongs
      [packet(1, 99, 0, 0, 0)], // unknown type
      [packet(5, 1, 0, 0, 0, bytes(10))], // out of order
      [packet(1, 7, 0, 0, 0), packet(2, 2, 1, 0, 0, bytes(8))], // BYE then more
      [ackFrame(TWO_53 - 1)], // an ack for packets never sent
      [packet(1, 2, 1, TWO_53 + 10, 0, bytes(16)), packet(2, 2, 1, 0, 1)], // offsets past 2^53
      [packet(1, 4, 1, 2 ** 40, 2 ** 40)], // a read far outside any store
    ];
    for (let i = 0; i < 90; i++) {
      const body = hostile[i % hostile.length]!;
      const r = await exchange(port, [CLIENT_TUNNEL_MAGIC, hello(), ...body], 400);
      expect(r.received, 'a session with the right token is welcomed').toBeGreaterThan(0);
      sent++;
    }
    // 4. Well-formed local messages with hostile content, relayed to the head node's raylet: after a
    //    driver's hello, messages of every type with fields of the wrong type, size or value.
    const driverHello = { type: 'hello', role: 'driver', token, jobId: '0a', pid: 1, jobDir: '' };
    const id56 = 'ab'.repeat(28);
    const hostileLocal: unknown[] = [
      { type: 'submit', task: { taskId: id56, resources: { CPU: -Infinity } } },
      { type: 'submit', task: { taskId: 'short', jobId: '0a', attempt: 0, name: 'x', fnHash: '', args: [], returnId: id56, resources: { CPU: 1 }, strategy: { kind: 'DEFAULT' }, owner: { nodeId: '', clientId: 'c' }, depth: 0, driverNodeId: '' } },
      { type: 'objCreate', reqId: 1, objectId: id56, size: -5, owner: { nodeId: '', clientId: 'c' } },
      { type: 'objCreate', reqId: 1, objectId: id56, size: 2 ** 60, owner: { nodeId: '', clientId: 'c' } },
      { type: 'objGet', reqId: 2, objectId: { not: 'a string' }, nodeId: '', size: 0 },
      { type: 'objRelease', reqId: 3, objectIds: 'all' },
      { type: 'taskDone', outcome: null },
      { type: 'cancel', taskId: id56 },
      { type: 'returnTasks', taskIds: [1, 2, 3] },
      { type: 'actorCall', nodeId: 'nope', workerId: 'w', task: {} },
      { type: 'logs', jobId: '0a', driverNodeId: '', prefix: 'p', stream: 'stdin', text: 'x' },
      { type: 'reserveActor', reqId: 4, spec: { actorId: 'zz' }, classDescriptor: 'not bytes' },
      { type: 'no-such-type' },
      'a string', 42, null,
    ];
    for (let i = 0; i < 60; i++) {
      const m = hostileLocal[i % hostileLocal.length];
      const r = await exchange(port, [CLIENT_TUNNEL_MAGIC, hello(), packet(1, 1, 0, 0, 0, serialize(driverHello)), packet(2, 1, 0, 0, 0, serialize(m))], 400);
      expect(r.received).toBeGreaterThan(0);
      sent++;
    }
    console.log(`client tunnel fuzz: ${sent} hostile connections`);

    // Nothing died, status answers, and a real remote client works.
    expect(alive(head.headPid!)).toBe(true);
    expect(alive(head.rayletPid)).toBe(true);
    const status = await cluster.statusJson(head.tempDir);
    expect(status.nodes.active).toHaveLength(1);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'remote/small_work.mjs', {}, { env: remoteClientEnv(cluster, head, clientAddressOf(head)) });
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toEqual({ square: 49, count: 1, bigLength: 1 << 19, bigSum: 3 * (1 << 19) });
    // No session is left behind: each ended (protocol error, BYE) or waits out its grace (30 s) and ends.
    const log = readFileSync(join(head.sessionDir, 'logs', 'gcs_server.log'), 'utf8');
    expect(log).not.toMatch(/uncaught|unhandled/i);
    // The raylet refused every hostile local message before a handler saw it.
    const rayletLog = readFileSync(join(head.sessionDir, 'logs', 'raylet.log'), 'utf8');
    expect((rayletLog.match(/disconnected a local client that sent a malformed message/g) ?? []).length).toBeGreaterThanOrEqual(50);
  }, 300_000);
});
