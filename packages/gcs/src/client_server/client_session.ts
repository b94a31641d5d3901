/**
 * One remote client's session on the head (`rayts://`): the head's half of Ray Client's proxy.
 *
 * The client runs a whole core worker; what it would say to a local raylet over the node's socket
 * travels as MSG packets, and this session relays them, unread, to the head node's raylet over a
 * socket of its own, on which the client is an ordinary driver. So the raylet routes results, log
 * lines and owner lookups to this session, which holds them while the client is away. The one thing a
 * remote process cannot do, touch the node's shared memory, the session does for it: WRITE and READ
 * packets copy object bytes into and out of the arena file (ArenaFile), in chunks, paced by the
 * channel's window.
 *
 * When the client's connection breaks, the session waits `graceMs` for it to come back (`attach`);
 * then it ends: closing its raylet socket is a driver disconnecting, so the raylet ends the job (its
 * non-detached actors die) and releases what the session held.
 */
import { connect, type Socket } from 'node:net';
import { deserialize } from 'node:v8';
import { FRAME_HEADER_BYTES, FrameLimitError, FrameReader, firstMessage, PacketType, ReliableChannel, type ChannelOptions, type FramePartsReader, type Logger, type Packet } from '@rayts/common';
import type { PageMode } from '@rayts/object-store';
import { ArenaFile } from './arena_file.js';

export interface ClientSessionOptions {
  id: string;
  /** Where the client connected from (for logs). */
  peer: string;
  rayletSocketPath: string;
  channel: ChannelOptions;
  graceMs: number;
  chunkBytes: number;
  /** The largest local-socket frame the raylet accepts. */
  maxFrameBytes: number;
  logger: Logger;
  /** The session ended (it is removed from the server's table). */
  ended(id: string, reason: string): void;
}

/**
 * - `CONNECTED`: the client's connection is attached.
 * - `AWAY`: it broke; the session ends when `timer` fires unless the client comes back.
 * - `ENDED`: over; `reason` says why.
 */
type SessionState = { kind: 'CONNECTED' } | { kind: 'AWAY'; timer: NodeJS.Timeout } | { kind: 'ENDED'; reason: string };

/** The session's socket to the raylet: opened when the client's first message (its hello) arrives. */
type RayletLink = { kind: 'NONE' } | { kind: 'CONNECTING'; queued: Buffer[][] } | { kind: 'OPEN'; socket: Socket } | { kind: 'CLOSED' };

export class ClientSession {
  private state: SessionState = { kind: 'CONNECTED' };
  private link: RayletLink = { kind: 'NONE' };
  private arena?: ArenaFile;
  /** Write requests under way: the first error of each (undefined = fine so far). */
  private readonly writes = new Map<number, string | undefined>();
  private readonly channel: ReliableChannel;
  /** Chunk buffers of object reads the client has acknowledged, for the next ones. */
  private readonly chunks: Buffer[] = [];

  constructor(private readonly options: ClientSessionOptions) {
    this.channel = new ReliableChannel(options.channel, {
      packet: (p) => this.onPacket(p),
      detached: (reason) => this.away(reason),
      failed: (reason) => this.end(`protocol error: ${reason}`),
    });
  }

  get id(): string {
    return this.options.id;
  }

  get received(): number {
    return this.channel.received;
  }

  get isEnded(): boolean {
    return this.state.kind === 'ENDED';
  }

  /** Carries the session over a (new) connection of its client. */
  attach(socket: Socket, peerReceived: number, reader: FramePartsReader): void {
    if (this.state.kind === 'ENDED') {
      socket.destroy();
      return;
    }
    if (this.state.kind === 'AWAY') {
      clearTimeout(this.state.timer);
      this.options.logger.info('remote client came back', { session: this.id, peer: this.options.peer });
    }
    this.state = { kind: 'CONNECTED' };
    this.channel.attach(socket, peerReceived, reader);
  }

  /** Ends the session now (the head stops, the client said goodbye, the raylet went). */
  end(reason: string): void {
    if (this.state.kind === 'ENDED') return;
    if (this.state.kind === 'AWAY') clearTimeout(this.state.timer);
    this.state = { kind: 'ENDED', reason };
    this.channel.send(PacketType.END, 0, 0, 0, Buffer.from(reason, 'utf8'));
    this.channel.close();
    if (this.link.kind === 'OPEN') this.link.socket.end();
    this.link = { kind: 'CLOSED' };
    this.arena?.close();
    this.options.logger.info('remote client session ended', { session: this.id, peer: this.options.peer, reason });
    this.options.ended(this.id, reason);
  }

  private away(reason: string): void {
    if (this.state.kind !== 'CONNECTED') return;
    const { graceMs } = this.options;
    this.options.logger.info('remote client connection lost; the session waits for it', { session: this.id, reason, graceMs });
    const timer = setTimeout(() => this.end(`the client did not reconnect within ${graceMs / 1000} s (${reason})`), graceMs);
    timer.unref();
    this.state = { kind: 'AWAY', timer };
  }

  private onPacket(p: Packet): void {
    try {
      switch (p.type) {
        case PacketType.MSG: return this.toRaylet(p.payload);
        case PacketType.WRITE: return this.write(p);
        case PacketType.READ: return void this.read(p.req, p.a, p.b);
        case PacketType.BYE: return this.end('the client shut down');
        default: throw new Error(`unexpected packet type ${p.type} from a client`);
      }
    } catch (err) {
      this.end(`protocol error: ${(err as Error).message}`);
    }
  }

  private toRaylet(message: Buffer[]): void {
    const link = this.link;
    if (link.kind === 'NONE') {
      this.link = { kind: 'CONNECTING', queued: [message] };
      this.openRaylet();
    } else if (link.kind === 'CONNECTING') {
      link.queued.push(message);
    } else if (link.kind === 'OPEN') {
      writeFrame(link.socket, message);
    }
  }

  private openRaylet(): void {
    const socket = connect({ path: this.options.rayletSocketPath });
    const reader = new FrameReader((body) => this.fromRaylet(body, socket), this.options.maxFrameBytes);
    socket.setNoDelay?.(true);
    socket.once('connect', () => {
      const link = this.link;
      if (link.kind !== 'CONNECTING') {
        socket.destroy();
        return;
      }
      this.link = { kind: 'OPEN', socket };
      socket.cork();
      for (const m of link.queued) writeFrame(socket, m);
      socket.uncork();
    });
    socket.on('data', (data: Buffer) => {
      try {
        reader.push(data);
      } catch (err) {
        if (!(err instanceof FrameLimitError)) throw err;
        socket.destroy(err);
      }
    });
    socket.on('error', (err) => this.end(`the head node's raylet connection failed: ${err.message}`));
    socket.on('close', () => this.end("the head node's raylet closed the connection (it stopped or restarted)"));
  }

  private fromRaylet(body: Buffer, socket: Socket): void {
    if (this.state.kind === 'ENDED') return;
    if (!this.arena) this.learnArena(body);
    this.channel.send(PacketType.MSG, 0, 0, 0, body);
    // While the client is away (or slow), the raylet waits rather than the head buffering without bound.
    if (!this.channel.hasRoom) {
      socket.pause();
      void this.channel.whenWritable().then(() => socket.resume());
    }
  }

  /** The raylet's first message is its welcome, which says where the arena is (alone, or first of a batch). */
  private learnArena(body: Buffer): void {
    type Welcome = { type?: string; arenaPath?: string; arenaSize?: number; arenaPageMode?: PageMode };
    const decoded = deserialize(body) as Welcome | Welcome[];
    const m = firstMessage(decoded) ?? {};
    if (m.type === 'welcome' && typeof m.arenaPath === 'string' && typeof m.arenaSize === 'number') this.arena = new ArenaFile(m.arenaPath, m.arenaSize, m.arenaPageMode);
  }

  private write(p: Packet): void {
    const last = p.b === 1;
    if (!this.writes.has(p.req)) this.writes.set(p.req, undefined);
    if (p.payload.length > 0 && this.writes.get(p.req) === undefined) {
      try {
        let at = p.a;
        for (const part of p.payload) {
          this.arenaFile().write(at, part);
          at += part.length;
        }
      } catch (err) {
        this.writes.set(p.req, (err as Error).message);
      }
    }
    if (!last) return;
    const error = this.writes.get(p.req);
    this.writes.delete(p.req);
    this.channel.send(PacketType.WRITE_DONE, p.req, 0, 0, error ? Buffer.from(error, 'utf8') : undefined);
  }

  /** Streams `length` bytes from arena offset `offset`, a chunk at a time as the window allows. */
  private async read(req: number, offset: number, length: number): Promise<void> {
    let error: string | undefined;
    try {
      const arena = this.arenaFile();
      arena.check(offset, length); // the whole range first: a bad one streams nothing
      for (let pos = offset; pos < offset + length;) {
        await this.channel.whenWritable();
        if (this.state.kind === 'ENDED') return;
        const n = Math.min(this.options.chunkBytes, offset + length - pos);
        const chunk = this.chunks.pop() ?? Buffer.allocUnsafeSlow(this.options.chunkBytes);
        arena.readInto(pos, chunk.subarray(0, n));
        // Back to the pool once the client has it: fresh memory costs a page fault per 4 KiB here.
        this.channel.send(PacketType.READ_DATA, req, pos, 0, chunk.subarray(0, n), () => this.recycle(chunk));
        pos += n;
      }
    } catch (err) {
      error = (err as Error).message;
    }
    this.channel.send(PacketType.READ_END, req, 0, 0, error ? Buffer.from(error, 'utf8') : undefined);
  }

  private recycle(chunk: Buffer): void {
    // At most a window's worth (and two more) are in flight; keep that many.
    if (this.chunks.length * this.options.chunkBytes < this.options.channel.windowBytes + 2 * this.options.chunkBytes) this.chunks.push(chunk);
  }

  private arenaFile(): ArenaFile {
    if (!this.arena) throw new Error('the object store is not known yet (no welcome from the raylet)');
    return this.arena;
  }
}

function writeFrame(socket: Socket, parts: readonly Uint8Array[]): void {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  let length = 0;
  for (const p of parts) length += p.byteLength;
  header.writeUInt32LE(length, 0);
  socket.write(header);
  for (const p of parts) socket.write(p);
}
