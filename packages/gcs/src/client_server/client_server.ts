/**
 * The head's endpoint for remote drivers (`ray.init('rayts://HOST:PORT')`, the head's
 * --ray-client-server-port, Ray's 10001). The port is shared with a second listener of the GCS's own
 * gRPC services (the client's function table, actors, placement groups, kv and task events go there,
 * token-checked like every call); connections that open with CLIENT_TUNNEL_MAGIC come here.
 *
 * The handshake: the client's HELLO (protocol version, token, the session to resume and the last
 * packet it received from it), answered by WELCOME (the session, the last packet the head received,
 * the grace period, the head node) or REFUSED (why, and a code the client turns into an error class).
 * A wrong token or protocol version opens no session.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  CLIENT_TUNNEL_MAGIC, FrameKind, FrameLimitError, FramePartsReader, PROTOCOL_VERSION, RAYTS_VERSION, jsonFrame, readJsonBody, tokensEqual,
  type ChannelOptions, type ClientHelloBody, type Config, type Logger, type RayletReady, type RefusalCode, type WelcomeBody,
} from '@rayts/common';
import { ClientSession } from './client_session.js';

export interface ClientServerOptions {
  token: string;
  clusterId: string;
  config: Config;
  logger: Logger;
  /** The head node's raylet, once it runs (undefined before). */
  headRaylet(): RayletReady | undefined;
  /** The largest local-socket frame. */
  maxFrameBytes: number;
}

/** How many ended sessions' reasons are kept, to tell a client that comes back too late why. */
const ENDED_KEPT = 256;

export class ClientServer {
  private readonly sessions = new Map<string, ClientSession>();
  private readonly ended = new Map<string, string>();
  private readonly channel: ChannelOptions;
  private stopped = false;

  constructor(private readonly options: ClientServerOptions) {
    const c = options.config;
    this.channel = {
      windowBytes: c.clientWindowBytes, ackEveryBytes: Math.max(1, Math.floor(c.clientWindowBytes / 4)), ackDelayMs: 5,
      heartbeatMs: c.clientHeartbeatMs, deadAfterMs: c.clientDeadAfterMs, maxFrameBytes: options.maxFrameBytes,
    };
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A connection that opened with the tunnel's magic (still unread). */
  accept(socket: Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    let skip = CLIENT_TUNNEL_MAGIC.length;
    const timer = setTimeout(() => socket.destroy(), this.options.config.portFirstBytesTimeoutMs);
    const reader = new FramePartsReader((parts) => {
      clearTimeout(timer);
      socket.off('data', onData);
      reader.redirect(() => undefined);
      this.handshake(socket, parts, reader, peer);
    }, 64 * 1024);
    const onData = (data: Buffer) => {
      if (skip > 0) {
        const n = Math.min(skip, data.length);
        skip -= n;
        data = data.subarray(n);
      }
      try {
        if (data.length > 0) reader.push(data);
      } catch (err) {
        if (!(err instanceof FrameLimitError)) throw err;
        socket.destroy();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clearTimeout(timer));
    socket.resume();
  }

  /** Ends every session (the head stops). */
  stop(): void {
    this.stopped = true;
    for (const s of [...this.sessions.values()]) s.end('the head is stopping');
  }

  private handshake(socket: Socket, parts: Buffer[], reader: FramePartsReader, peer: string): void {
    const { logger } = this.options;
    let hello: ClientHelloBody;
    try {
      if (parts[0]?.[0] !== FrameKind.HELLO) throw new Error('the first frame is not a hello');
      hello = readJsonBody<ClientHelloBody>(parts);
      if (typeof hello.token !== 'string' || typeof hello.sessionId !== 'string' || !Number.isSafeInteger(hello.received) || hello.received < 0) {
        throw new Error('the hello lacks its fields');
      }
    } catch (err) {
      return this.refuse(socket, 'BAD_HELLO', `malformed client hello: ${(err as Error).message}`, peer);
    }
    if (!tokensEqual(hello.token, this.options.token)) {
      return this.refuse(socket, 'UNAUTHENTICATED', 'missing or wrong cluster token', peer);
    }
    const ours = this.options.config.testingProtocolVersion || PROTOCOL_VERSION;
    if (hello.protocolVersion !== ours) {
      return this.refuse(socket, 'VERSION_MISMATCH',
        `this client speaks rayts protocol ${hello.protocolVersion} (rayts ${String(hello.raytsVersion)}), the cluster protocol ${ours} (rayts ${RAYTS_VERSION}): install the cluster's rayts version on the client`, peer);
    }
    if (this.stopped) return this.refuse(socket, 'UNAVAILABLE', 'the head is stopping', peer);
    const raylet = this.options.headRaylet();
    let session: ClientSession | undefined;
    if (hello.sessionId) {
      session = this.sessions.get(hello.sessionId);
      if (!session) {
        const why = this.ended.get(hello.sessionId) ?? 'the head does not know it (the head restarted, or the session ended long ago)';
        return this.refuse(socket, 'SESSION_GONE', `session ${hello.sessionId} ended: ${why}`, peer);
      }
    } else {
      if (!raylet) return this.refuse(socket, 'UNAVAILABLE', "the head node's raylet is not running yet; try again in a moment", peer);
      session = this.open(raylet, peer);
      logger.info('remote client session started', { session: session.id, peer });
    }
    const welcome: WelcomeBody = {
      sessionId: session.id, received: session.received, graceMs: this.options.config.clientReconnectGraceS * 1000,
      nodeId: raylet?.nodeId ?? '', nodeIp: raylet?.nodeIp ?? '', clusterId: this.options.clusterId,
    };
    socket.write(jsonFrame(FrameKind.WELCOME, welcome));
    session.attach(socket, hello.received, reader);
  }

  private open(raylet: RayletReady, peer: string): ClientSession {
    const id = randomBytes(16).toString('hex');
    const session = new ClientSession({
      id, peer, rayletSocketPath: raylet.socketPath, channel: this.channel, graceMs: this.options.config.clientReconnectGraceS * 1000,
      chunkBytes: this.options.config.clientChunkBytes, maxFrameBytes: this.options.maxFrameBytes, logger: this.options.logger,
      ended: (sid, reason) => {
        this.sessions.delete(sid);
        this.ended.set(sid, reason);
        if (this.ended.size > ENDED_KEPT) this.ended.delete(this.ended.keys().next().value!);
      },
    });
    this.sessions.set(id, session);
    return session;
  }

  private refuse(socket: Socket, code: RefusalCode, message: string, peer: string): void {
    this.options.logger.warn('refused a remote client', { peer, code, reason: code === 'UNAUTHENTICATED' ? 'wrong or missing token' : message });
    socket.end(jsonFrame(FrameKind.REFUSED, { code, message }));
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
