/**
 * One end of a remote-client session's packet stream, independent of the TCP connection under it.
 *
 * Every packet gets a sequence number and stays in `unacked` until the peer acknowledges it, so when
 * the connection breaks nothing is lost: the next connection (`attach`, after a handshake in which
 * each end said the last packet it received) resends the rest, in order, and the receiver drops what
 * it has already seen. The unacknowledged bytes are also the flow control: a bulk producer waits in
 * `whenWritable` while they pass the window, which bounds the memory of both ends. Acks go back
 * after `ackEveryBytes` received or `ackDelayMs` after the first unacknowledged packet; every
 * `heartbeatMs` an ack is sent anyway, and a connection that brings nothing for `deadAfterMs` is
 * taken as broken (a peer can vanish without closing: a laptop's network, a NAT table).
 */
import type { Socket } from 'node:net';
import { FrameLimitError, FramePartsReader } from '../wire/frame_reader.js';
import { FrameKind, ackFrame, packetHead, readAck, readPacket, type Packet, type PacketType } from './frames.js';

export interface ChannelOptions {
  windowBytes: number;
  ackEveryBytes: number;
  ackDelayMs: number;
  heartbeatMs: number;
  deadAfterMs: number;
  maxFrameBytes: number;
}

interface Sent {
  seq: number;
  head: Buffer;
  payload?: Uint8Array;
  bytes: number;
  /** Called once the peer has the packet (or the channel closed): its payload may be reused. */
  released?: () => void;
}

/**
 * - `DETACHED`: no connection; packets queue until one is attached.
 * - `ATTACHED`: a connection carries the packets.
 * - `CLOSED`: the session is over; nothing is sent or delivered any more.
 */
type ChannelState = { kind: 'DETACHED' } | { kind: 'ATTACHED'; socket: Socket; reader: FramePartsReader; lastHeardMs: number } | { kind: 'CLOSED' };

export interface ChannelEvents {
  /** A packet, in order, exactly once. */
  packet(packet: Packet): void;
  /** The connection under the channel broke (the session lives on: `attach` a new one). */
  detached(reason: string): void;
  /** The peer broke the protocol (a frame over the limit, a packet out of order): the session cannot go on. */
  failed(reason: string): void;
}

export class ReliableChannel {
  private state: ChannelState = { kind: 'DETACHED' };
  private sendSeq = 0;
  private recvSeq = 0;
  private readonly unacked: Sent[] = [];
  private unackedBytes = 0;
  private recvSinceAck = 0;
  private ackTimer?: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout;
  private writableWaiters: (() => void)[] = [];
  private corked = false;

  constructor(private readonly options: ChannelOptions, private readonly events: ChannelEvents) {
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs).unref();
  }

  /** The last packet received in order (what a handshake tells the peer). */
  get received(): number {
    return this.recvSeq;
  }

  get isAttached(): boolean {
    return this.state.kind === 'ATTACHED';
  }

  /** Whether the unacknowledged bytes are under the window. */
  get hasRoom(): boolean {
    return this.unackedBytes < this.options.windowBytes;
  }

  get isClosed(): boolean {
    return this.state.kind === 'CLOSED';
  }

  /**
   * Carries the session over `socket` from now on. `peerReceived`: the last packet the peer has;
   * `reader` holds any bytes that came after the handshake frame. Resends what the peer lacks.
   */
  attach(socket: Socket, peerReceived: number, reader: FramePartsReader): void {
    if (this.state.kind === 'CLOSED') {
      socket.destroy();
      return;
    }
    if (this.state.kind === 'ATTACHED') this.state.socket.destroy();
    this.release(peerReceived);
    const state = { kind: 'ATTACHED' as const, socket, reader, lastHeardMs: Date.now() };
    this.state = state;
    socket.setNoDelay(true);
    socket.cork();
    for (const s of this.unacked) this.writeSent(socket, s);
    socket.uncork();
    reader.setLimit(this.options.maxFrameBytes);
    reader.redirect((parts) => this.onFrame(parts));
    const protocolError = (err: unknown) => {
      if (!(err instanceof FrameLimitError)) throw err;
      if (this.state !== state) return;
      this.state = { kind: 'DETACHED' };
      socket.destroy();
      this.events.failed(err.message);
    };
    socket.on('data', (data: Buffer) => {
      if (this.state !== state) return;
      state.lastHeardMs = Date.now();
      try {
        reader.push(data);
      } catch (err) {
        protocolError(err);
      }
    });
    const lost = (reason: string) => {
      if (this.state !== state) return;
      this.state = { kind: 'DETACHED' };
      this.events.detached(reason);
    };
    socket.on('close', () => lost('the connection closed'));
    socket.on('error', (err) => lost(err.message));
    try {
      reader.drain();
    } catch (err) {
      protocolError(err);
    }
  }

  /**
   * Sends a packet (queued while detached). The payload is kept, not copied, until acknowledged;
   * `released` is called then (or when the channel closes), so that its memory can be reused.
   */
  send(type: PacketType, req = 0, a = 0, b = 0, payload?: Uint8Array, released?: () => void): void {
    if (this.state.kind === 'CLOSED') {
      released?.();
      return;
    }
    const seq = ++this.sendSeq;
    const head = packetHead(seq, type, req, a, b, payload?.byteLength ?? 0);
    const sent: Sent = { seq, head, payload, bytes: head.length + (payload?.byteLength ?? 0), released };
    this.unacked.push(sent);
    this.unackedBytes += sent.bytes;
    if (this.state.kind === 'ATTACHED') {
      const { socket } = this.state;
      if (!this.corked) {
        this.corked = true;
        socket.cork();
        process.nextTick(() => {
          this.corked = false;
          socket.uncork();
        });
      }
      this.writeSent(socket, sent);
    }
  }

  /** Resolves when the unacknowledged bytes are under the window (at once if they are). */
  whenWritable(): Promise<void> {
    if (this.unackedBytes < this.options.windowBytes || this.state.kind === 'CLOSED') return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  /** Ends the session here: the connection closes, waiting producers go on (and find it closed). */
  close(): void {
    if (this.state.kind === 'ATTACHED') {
      const { socket } = this.state;
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    }
    this.state = { kind: 'CLOSED' };
    clearInterval(this.heartbeat);
    clearTimeout(this.ackTimer);
    for (const s of this.unacked) s.released?.();
    this.unacked.length = 0;
    this.unackedBytes = 0;
    this.wakeWriters();
  }

  /** Drops the current connection (the session lives on); for tests of reconnection and for dead peers. */
  dropConnection(reason: string): void {
    if (this.state.kind !== 'ATTACHED') return;
    const { socket } = this.state;
    this.state = { kind: 'DETACHED' };
    socket.destroy();
    this.events.detached(reason);
  }

  private writeSent(socket: Socket, s: Sent): void {
    socket.write(s.head);
    if (s.payload && s.payload.byteLength > 0) socket.write(s.payload);
  }

  private onFrame(parts: Buffer[]): void {
    if (this.state.kind !== 'ATTACHED') return;
    let length = 0;
    for (const p of parts) length += p.length;
    if (length === 0) throw new FrameLimitError('an empty frame in a session');
    const kind = parts[0]![0];
    if (kind === FrameKind.ACK) {
      this.release(readAck(parts));
      return;
    }
    if (kind !== FrameKind.PACKET) throw new FrameLimitError(`unexpected frame kind ${kind} in a session`);
    const { seq, packet } = readPacket(parts, length);
    if (seq <= this.recvSeq) return; // resent after a reconnection: already delivered
    if (seq !== this.recvSeq + 1) throw new FrameLimitError(`packet ${seq} arrived after ${this.recvSeq}: the stream is out of order`);
    this.recvSeq = seq;
    this.recvSinceAck += length;
    if (this.recvSinceAck >= this.options.ackEveryBytes) this.ackNow();
    else this.ackTimer ??= setTimeout(() => this.ackNow(), this.options.ackDelayMs);
    this.events.packet(packet);
  }

  private ackNow(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.recvSinceAck = 0;
    if (this.state.kind === 'ATTACHED') this.state.socket.write(ackFrame(this.recvSeq));
  }

  private release(upTo: number): void {
    let n = 0;
    while (n < this.unacked.length && this.unacked[n]!.seq <= upTo) {
      this.unackedBytes -= this.unacked[n]!.bytes;
      this.unacked[n]!.released?.();
      n++;
    }
    if (n > 0) this.unacked.splice(0, n);
    if (this.unackedBytes < this.options.windowBytes) this.wakeWriters();
  }

  private wakeWriters(): void {
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
  }

  private beat(): void {
    if (this.state.kind !== 'ATTACHED') return;
    if (Date.now() - this.state.lastHeardMs > this.options.deadAfterMs) {
      this.dropConnection(`nothing heard for ${this.options.deadAfterMs} ms`);
      return;
    }
    this.ackNow();
  }
}
