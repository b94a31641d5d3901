import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FramePartsReader, joinParts } from '../wire/frame_reader.js';
import { PacketType, type Packet } from './frames.js';
import { ReliableChannel, type ChannelOptions } from './reliable_channel.js';
import { pollUntil } from '../processes.js';

const OPTIONS: ChannelOptions = { windowBytes: 64 * 1024, ackEveryBytes: 16 * 1024, ackDelayMs: 2, heartbeatMs: 60_000, deadAfterMs: 120_000, maxFrameBytes: 1 << 20 };

const servers: Server[] = [];
const channels: ReliableChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) c.close();
  for (const s of servers.splice(0)) s.close();
});

/** A connected pair of sockets over loopback. */
async function socketPair(): Promise<[Socket, Socket]> {
  let accepted!: (s: Socket) => void;
  const got = new Promise<Socket>((r) => { accepted = r; });
  const server = createServer((s) => accepted(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', () => r()));
  return [client, await got];
}

function endpoint(received: Packet[], events: string[] = []): ReliableChannel {
  const c = new ReliableChannel(OPTIONS, {
    packet: (p) => received.push(p),
    detached: (reason) => events.push(`detached: ${reason}`),
    failed: (reason) => events.push(`failed: ${reason}`),
  });
  channels.push(c);
  return c;
}

const text = (p: Packet) => joinParts(p.payload).toString();

describe('ReliableChannel', () => {
  it('delivers packets in order, large payloads in pieces, and the window holds a bulk sender back until acks come', async () => {
    const [a, b] = await socketPair();
    const gotA: Packet[] = [];
    const gotB: Packet[] = [];
    const left = endpoint(gotA);
    const right = endpoint(gotB);
    left.attach(a, 0, new FramePartsReader(() => undefined, 1 << 20));
    right.attach(b, 0, new FramePartsReader(() => undefined, 1 << 20));
    const big = Buffer.alloc(200 * 1024, 7);
    for (let i = 0; i < 5; i++) {
      await left.whenWritable();
      left.send(PacketType.WRITE, 1, i * big.length, 0, big);
      left.send(PacketType.MSG, 0, 0, 0, Buffer.from(`m${i}`));
    }
    expect(await pollUntil(() => gotB.length === 10, 10_000, 5)).toBe(true);
    expect(gotB.filter((p) => p.type === PacketType.MSG).map(text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    for (const p of gotB.filter((x) => x.type === PacketType.WRITE)) {
      expect(joinParts(p.payload).equals(big)).toBe(true);
    }
    expect(gotB.filter((p) => p.type === PacketType.WRITE).map((p) => p.a)).toEqual([0, 1, 2, 3, 4].map((i) => i * big.length));
    // Everything was acknowledged: the sender has room again.
    expect(await pollUntil(() => left.hasRoom, 5000, 5)).toBe(true);
  });

  it('after the connection breaks, a new one resends exactly what the peer had not received', async () => {
    const [a, b] = await socketPair();
    const gotB: Packet[] = [];
    const eventsA: string[] = [];
    const left = endpoint([], eventsA);
    const right = endpoint(gotB);
    left.attach(a, 0, new FramePartsReader(() => undefined, 1 << 20));
    right.attach(b, 0, new FramePartsReader(() => undefined, 1 << 20));
    left.send(PacketType.MSG, 0, 0, 0, Buffer.from('one'));
    expect(await pollUntil(() => gotB.length === 1, 5000, 5)).toBe(true);
    // The link goes before anything else is delivered; two more are sent meanwhile (queued).
    left.dropConnection('test');
    expect(await pollUntil(() => eventsA.length === 1, 5000, 5)).toBe(true);
    left.send(PacketType.MSG, 0, 0, 0, Buffer.from('two'));
    left.send(PacketType.MSG, 0, 0, 0, Buffer.from('three'));
    const [a2, b2] = await socketPair();
    // Each end tells the other the last packet it received, as the handshake does.
    right.attach(b2, left.received, new FramePartsReader(() => undefined, 1 << 20));
    left.attach(a2, right.received, new FramePartsReader(() => undefined, 1 << 20));
    expect(await pollUntil(() => gotB.length === 3, 5000, 5)).toBe(true);
    expect(gotB.map(text)).toEqual(['one', 'two', 'three']);
  });

  it('a frame over the limit is a protocol error, not a reconnection', async () => {
    const [a, b] = await socketPair();
    const events: string[] = [];
    const right = endpoint([], events);
    right.attach(b, 0, new FramePartsReader(() => undefined, 1 << 20));
    const header = Buffer.alloc(4);
    header.writeUInt32LE(2 << 20, 0);
    a.write(header);
    expect(await pollUntil(() => events.length === 1, 5000, 5)).toBe(true);
    expect(events[0]).toMatch(/^failed: frame of 2097152 bytes exceeds/);
    a.destroy();
  });
});
