/**
 * The remote-client tunnel's wire form (`rayts://HOST:PORT`, the head's --ray-client-server-port).
 *
 * A connection starts with CLIENT_TUNNEL_MAGIC (so one port serves it beside the GCS's gRPC), then
 * length-prefixed frames (u32 little-endian length, then the body). A body's first byte is its kind:
 * - HELLO (client) and WELCOME / REFUSED (server): the handshake, JSON after the kind byte;
 * - ACK: u64 = the last sequenced packet received in order (cumulative);
 * - PACKET: a sequenced packet: u64 seq, u8 type, u32 req, u64 a, u64 b, then the payload. Both ends
 *   keep what they sent until it is acknowledged, so a session survives a broken connection: the new
 *   one resends what the peer had not received (see ReliableChannel).
 */
import { FrameLimitError, joinParts, partsAfter, prefixOf } from '../wire/frame_reader.js';

export const CLIENT_TUNNEL_MAGIC = Buffer.from('RAYTSCL1');

export const FrameKind = { HELLO: 1, WELCOME: 2, REFUSED: 3, ACK: 4, PACKET: 5 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** What a sequenced packet carries. */
export const PacketType = {
  /** A local-socket message (v8-serialized), relayed between the client and the head node's raylet. */
  MSG: 1,
  /** Client → head: bytes for the object store at arena offset `a` (request `req`). */
  WRITE: 2,
  /** Head → client: the writes of request `req` are in the store (payload: an error message, or empty). */
  WRITE_DONE: 3,
  /** Client → head: send `b` bytes of the store from arena offset `a`. */
  READ: 4,
  /** Head → client: bytes of request `req`, from arena offset `a`. */
  READ_DATA: 5,
  /** Head → client: request `req` is complete (payload: an error message, or empty). */
  READ_END: 6,
  /** Client → head: the session ends now (shutdown). */
  BYE: 7,
  /** Head → client: the session ended (payload: why). */
  END: 8,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export interface ClientHelloBody {
  protocolVersion: number;
  raytsVersion: string;
  token: string;
  /** '' for a new session; else the session to resume, with the last packet received from it. */
  sessionId: string;
  received: number;
}

export interface WelcomeBody {
  sessionId: string;
  /** The last packet the head received from this session (0 for a new one). */
  received: number;
  /** How long the head keeps a session whose client is away. */
  graceMs: number;
  /** The head node's raylet, which runs this client's calls: its node id and address. */
  nodeId: string;
  nodeIp: string;
  clusterId: string;
}

export type RefusalCode = 'UNAUTHENTICATED' | 'VERSION_MISMATCH' | 'SESSION_GONE' | 'UNAVAILABLE' | 'BAD_HELLO';

export interface RefusedBody {
  code: RefusalCode;
  message: string;
}

export interface Packet {
  type: PacketType;
  req: number;
  a: number;
  b: number;
  /** The payload as it arrived, in pieces (views of the received chunks: `joinParts` makes one Buffer). */
  payload: Buffer[];
}

/** kind + seq + type + req + a + b */
export const PACKET_HEAD_BYTES = 1 + 8 + 1 + 4 + 8 + 8;
const TWO_32 = 2 ** 32;

/** The length prefix and head of a packet whose payload is `payloadBytes` long. */
export function packetHead(seq: number, type: PacketType, req: number, a: number, b: number, payloadBytes: number): Buffer {
  const h = Buffer.allocUnsafe(4 + PACKET_HEAD_BYTES);
  h.writeUInt32LE(PACKET_HEAD_BYTES + payloadBytes, 0);
  h[4] = FrameKind.PACKET;
  writeU64(h, 5, seq);
  h[13] = type;
  h.writeUInt32LE(req >>> 0, 14);
  writeU64(h, 18, a);
  writeU64(h, 26, b);
  return h;
}

/** Reads a PACKET body (after its length prefix; `length` bytes in `parts`): seq and the packet. */
export function readPacket(parts: Buffer[], length: number): { seq: number; packet: Packet } {
  if (length < PACKET_HEAD_BYTES) throw new FrameLimitError(`a packet of ${length} bytes is shorter than its head`);
  const head = prefixOf(parts, PACKET_HEAD_BYTES);
  return {
    seq: readU64(head, 1),
    packet: { type: head[9] as PacketType, req: head.readUInt32LE(10), a: readU64(head, 14), b: readU64(head, 22), payload: partsAfter(parts, PACKET_HEAD_BYTES) },
  };
}

export function ackFrame(received: number): Buffer {
  const f = Buffer.allocUnsafe(4 + 9);
  f.writeUInt32LE(9, 0);
  f[4] = FrameKind.ACK;
  writeU64(f, 5, received);
  return f;
}

export function readAck(parts: Buffer[]): number {
  return readU64(prefixOf(parts, 9), 1);
}

/** A handshake frame: kind, then JSON. */
export function jsonFrame(kind: typeof FrameKind.HELLO | typeof FrameKind.WELCOME | typeof FrameKind.REFUSED, body: object): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const f = Buffer.allocUnsafe(5 + json.length);
  f.writeUInt32LE(1 + json.length, 0);
  f[4] = kind;
  json.copy(f, 5);
  return f;
}

export function readJsonBody<T>(parts: Buffer[]): T {
  return JSON.parse(joinParts(parts).subarray(1).toString('utf8')) as T;
}

function writeU64(b: Buffer, at: number, v: number): void {
  b.writeUInt32LE(v % TWO_32, at);
  b.writeUInt32LE(Math.floor(v / TWO_32), at + 4);
}

function readU64(b: Buffer, at: number): number {
  return b.readUInt32LE(at + 4) * TWO_32 + b.readUInt32LE(at);
}
