/**
 * A remote client's session with the head (`ray.init('rayts://HOST:PORT')`): the process runs a whole
 * core worker, and this is the link under it. Local-socket messages to and from the head node's raylet
 * travel as MSG packets (`link`), object bytes as WRITE/READ packets (`objects`), over one
 * ReliableChannel. When the connection breaks, the client reconnects with backoff and resumes the
 * session (nothing sent is lost, calls just wait) until the head's grace period has passed; then,
 * or when the head ends the session, the link closes with the reason, and pending calls fail.
 */
import { EventEmitter } from 'node:events';
import { deserialize, serialize } from 'node:v8';
import {
  ClusterUnreachableError, forEachMessage, MAX_FRAME_BYTES, PROTOCOL_VERSION, PacketType, joinParts, RAYTS_VERSION, ReliableChannel, type Config, type Packet, type TlsFiles, type WelcomeBody,
} from '@rayts/common';
import { RefusedError, openConnection } from './handshake.js';
import { TunnelArena } from './tunnel_arena.js';
import type { MessageLink } from '../raylet_connection.js';
import type { ClientMessage, RayletMessage } from '../protocol/messages.js';

export interface TunnelTarget {
  host: string;
  port: number;
  token: string;
  /** The cluster's mutual TLS, when it uses it. */
  tls?: TlsFiles;
}

/**
 * - `CONNECTED`: a connection carries the session.
 * - `RECONNECTING`: it broke at `sinceMs`; attempts go on until the grace period has passed.
 * - `CLOSED`: the session is over (`error` says why; undefined after our own shutdown).
 */
type TunnelState = { kind: 'CONNECTED' } | { kind: 'RECONNECTING'; sinceMs: number } | { kind: 'CLOSED'; error?: Error };

/** The raylet link of a remote client's core worker: local-socket messages, carried by the tunnel. */
class TunnelLink extends EventEmitter<{ message: [RayletMessage]; close: [Error | undefined] }> implements MessageLink<RayletMessage, ClientMessage> {
  constructor(private readonly tunnel: TunnelClient) {
    super();
  }

  send(message: ClientMessage): void {
    this.tunnel.sendMessage(serialize(message));
  }

  close(): void {
    this.tunnel.close();
  }
}

export class TunnelClient {
  readonly link: TunnelLink;
  readonly objects: TunnelArena;
  private state: TunnelState = { kind: 'CONNECTED' };
  private readonly channel: ReliableChannel;

  private constructor(private readonly target: TunnelTarget, readonly welcome: WelcomeBody, private readonly config: Config, private readonly log: (line: string) => void) {
    this.channel = new ReliableChannel({
      windowBytes: config.clientWindowBytes, ackEveryBytes: Math.max(1, Math.floor(config.clientWindowBytes / 4)), ackDelayMs: 5,
      heartbeatMs: config.clientHeartbeatMs, deadAfterMs: config.clientDeadAfterMs, maxFrameBytes: MAX_FRAME_BYTES + 64,
    }, {
      packet: (p) => this.onPacket(p),
      detached: (reason) => this.onDetached(reason),
      failed: (reason) => this.finish(new ClusterUnreachableError(`the session with the rayts head at ${this.address} broke: ${reason}`)),
    });
    this.link = new TunnelLink(this);
    this.objects = new TunnelArena(this.channel, config.clientChunkBytes);
  }

  /** Opens a new session (rejects with AuthenticationError, VersionMismatchError or ClusterUnreachableError). */
  static async connect(target: TunnelTarget, config: Config, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<TunnelClient> {
    const opened = await openConnection(target.host, target.port, hello(target, '', 0, config), config.gcsRpcTimeoutMs, MAX_FRAME_BYTES + 64, target.tls).catch((err: Error) => {
      throw err instanceof RefusedError ? err.error : err;
    });
    const client = new TunnelClient(target, opened.welcome, config, log);
    client.channel.attach(opened.socket, opened.welcome.received, opened.reader);
    return client;
  }

  get address(): string {
    return `rayts://${this.target.host.includes(':') ? `[${this.target.host}]` : this.target.host}:${this.target.port}`;
  }

  /** Whether the session is over. */
  get isClosed(): boolean {
    return this.state.kind === 'CLOSED';
  }

  sendMessage(bytes: Uint8Array): void {
    this.channel.send(PacketType.MSG, 0, 0, 0, bytes);
  }

  /** Ends the session (shutdown): the head releases what it holds for this client at once. */
  close(): void {
    if (this.state.kind === 'CLOSED') return;
    this.channel.send(PacketType.BYE);
    this.finish(undefined);
  }

  /** Drops the connection without ending the session, as a network failure would (tests). */
  dropConnection(): void {
    this.channel.dropConnection('dropped on request');
  }

  private onPacket(p: Packet): void {
    switch (p.type) {
      case PacketType.MSG: return forEachMessage(deserialize(joinParts(p.payload)) as RayletMessage | RayletMessage[], (m) => this.link.emit('message', m));
      case PacketType.WRITE_DONE: return this.objects.writeDone(p.req, textOf(p.payload));
      case PacketType.READ_DATA: return this.objects.readData(p.req, p.a, p.payload);
      case PacketType.READ_END: return this.objects.readEnd(p.req, textOf(p.payload));
      case PacketType.END: return this.finish(new ClusterUnreachableError(`the rayts head at ${this.address} ended this session: ${textOf(p.payload)}`));
      default: return undefined;
    }
  }

  private onDetached(reason: string): void {
    if (this.state.kind !== 'CONNECTED') return;
    this.state = { kind: 'RECONNECTING', sinceMs: Date.now() };
    this.log(`rayts: lost the connection to ${this.address} (${reason}); reconnecting for up to ${this.welcome.graceMs / 1000} s`);
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    let delayMs = 100;
    for (;;) {
      const s = this.state;
      if (s.kind !== 'RECONNECTING') return;
      const left = s.sinceMs + this.welcome.graceMs - Date.now();
      if (left <= 0) {
        this.finish(new ClusterUnreachableError(`lost the connection to the rayts head at ${this.address} and could not reconnect within ${this.welcome.graceMs / 1000} s; the head has ended the session`,
          'check the network between this machine and the head; ray.init() again starts a new session'));
        return;
      }
      try {
        const opened = await openConnection(this.target.host, this.target.port, hello(this.target, this.welcome.sessionId, this.channel.received, this.config),
          Math.min(left, this.config.gcsRpcTimeoutMs), MAX_FRAME_BYTES + 64, this.target.tls);
        if (this.state.kind !== 'RECONNECTING') {
          opened.socket.destroy();
          return;
        }
        this.state = { kind: 'CONNECTED' };
        this.channel.attach(opened.socket, opened.welcome.received, opened.reader);
        this.log(`rayts: reconnected to ${this.address}; the session resumed`);
        return;
      } catch (err) {
        if (err instanceof RefusedError) {
          this.finish(err.error);
          return;
        }
      }
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(delayMs * 2, 1000);
    }
  }

  private finish(error: Error | undefined): void {
    if (this.state.kind === 'CLOSED') return;
    this.state = { kind: 'CLOSED', error };
    this.channel.close();
    this.objects.close(error ?? new ClusterUnreachableError('the session with the rayts head was shut down'));
    this.link.emit('close', error);
  }
}

function textOf(parts: Buffer[]): string {
  return parts.length === 0 ? '' : joinParts(parts).toString('utf8');
}

function hello(target: TunnelTarget, sessionId: string, received: number, config: Config) {
  return { protocolVersion: config.testingProtocolVersion || PROTOCOL_VERSION, raytsVersion: RAYTS_VERSION, token: target.token, sessionId, received };
}
