/**
 * Bulk object transfer between raylets on the raylet's one port (the side channel of
 * `bindSharedPort`): gRPC frames every 16 KiB and copies each message twice, which caps a stream at
 * a few hundred MiB/s on a small host; here the holder writes the object straight from its arena to
 * the socket and the puller copies each received chunk once, into its own arena.
 *
 * Request:  magic (8 bytes) | u32 length | JSON { token, objectId }
 * Reply:    u8 status (0 ok, 1 not here, 2 refused) | u32 length | UTF-8 reason, then, when ok,
 *           u64 size | the object's bytes; the holder then closes.
 * The cluster token is checked (in constant time) before anything is read from the store, then the
 * object id's form (56 hex characters; else refused with the rule). Clusters
 * with TLS do not use this channel: their pulls stay on gRPC, inside TLS.
 */
import { connect, type Socket } from 'node:net';
import { msg, tokensEqual, v, type Logger } from '@rayts/common';
import { ObjectHolderUnreachableError, ObjectTransferError } from './errors.js';

/** Socket errors that mean the holder's raylet is not there (any more), not that it refused the request. */
const CONNECTION_LOST = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE']);

export const OBJECT_TRANSFER_MAGIC = Buffer.from('RAYTSOB1');
const MAX_REQUEST_BYTES = 4096;
const STATUS_OK = 0;
const STATUS_MISSING = 1;
const STATUS_REFUSED = 2;
/** Reply headers land here; object bytes go straight to the destination, READ_BYTES per read. */
const SCRATCH_BYTES = 64 * 1024;
const READ_BYTES = 8 * 1024 * 1024;

export interface ServedObject {
  view: Uint8Array;
  release(): void;
}

/** Serves one transfer request on a side-channel socket; a request not complete within `requestTimeoutMs` closes it. */
export function serveObjectTransfer(
  socket: Socket, token: string, find: (objectId: string) => Promise<ServedObject | undefined>, requestTimeoutMs: number, logger: Logger,
): void {
  let buffered = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), requestTimeoutMs);
  socket.once('close', () => clearTimeout(timer));
  const fail = (status: number, reason: string) => {
    const text = Buffer.from(reason);
    const head = Buffer.alloc(5);
    head.writeUInt8(status, 0);
    head.writeUInt32LE(text.length, 1);
    socket.end(Buffer.concat([head, text]));
  };
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length < OBJECT_TRANSFER_MAGIC.length + 4) return;
    const length = buffered.readUInt32LE(OBJECT_TRANSFER_MAGIC.length);
    if (length > MAX_REQUEST_BYTES) { socket.destroy(); return; }
    const start = OBJECT_TRANSFER_MAGIC.length + 4;
    if (buffered.length < start + length) return;
    clearTimeout(timer);
    socket.off('data', onData);
    let request: { token?: unknown; objectId?: unknown };
    try {
      request = JSON.parse(buffered.subarray(start, start + length).toString('utf8')) as typeof request;
    } catch {
      socket.destroy();
      return;
    }
    if (typeof request.token !== 'string' || !tokensEqual(request.token, token)) {
      logger.warn('refused an object transfer without the cluster token', { peer: socket.remoteAddress });
      fail(STATUS_REFUSED, 'missing or wrong cluster token');
      return;
    }
    const problem = v.problemOf(msg.objectId, request.objectId, 'object_id');
    if (problem) {
      fail(STATUS_REFUSED, problem);
      return;
    }
    const objectId = request.objectId as string;
    void find(objectId).then((found) => {
      if (!found) return fail(STATUS_MISSING, `object ${objectId} is not on this node`);
      const head = Buffer.alloc(13);
      head.writeUInt8(STATUS_OK, 0);
      head.writeUInt32LE(0, 1);
      head.writeBigUInt64LE(BigInt(found.view.byteLength), 5);
      socket.write(head);
      // Straight from the arena: the kernel copies it; the pin holds until the socket is done.
      socket.end(Buffer.from(found.view.buffer, found.view.byteOffset, found.view.byteLength));
      socket.once('close', () => found.release());
    }, (err: Error) => fail(STATUS_MISSING, err.message));
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  socket.resume();
}

/**
 * Fetches an object from the raylet at `host:port`: `allocate(size)` gives the destination (in this
 * node's store); resolves with the size once every byte arrived.
 */
export function fetchObject(address: string, token: string, objectId: string, allocate: (size: number) => Promise<Uint8Array>): Promise<number> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve, reject) => {
    let header = Buffer.alloc(0);
    let size = -1;
    let view: Uint8Array | undefined;
    let received = 0;
    let settled = false;
    const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(size);
    };
    const counted = () => {
      if (received === size) finish();
      else if (received > size) finish(new ObjectTransferError(`the holder sent more than the ${size} bytes of ${objectId}`));
    };
    const onHeaderBytes = (chunk: Uint8Array) => {
      header = Buffer.concat([header, chunk]);
      if (header.length < 5) return;
      const status = header.readUInt8(0);
      if (status !== STATUS_OK) {
        const length = header.readUInt32LE(1);
        if (header.length < 5 + length) return;
        finish(new ObjectTransferError(header.subarray(5, 5 + length).toString('utf8')));
        return;
      }
      if (header.length < 13) return;
      size = Number(header.readBigUInt64LE(5));
      early.push(Buffer.from(header.subarray(13)));
      socket.pause();
      allocate(size).then((into) => {
        view = into;
        // Bytes that came with the header, or in a read already under way when the socket paused.
        for (const b of early.splice(0)) { into.set(b, received); received += b.length; }
        if (size === 0 || received >= size) counted();
        else socket.resume();
      }, (err: Error) => finish(err));
    };
    const early: Buffer[] = [];
    // The object's bytes are read by the kernel straight into the destination (no copy in JS); only
    // the reply header goes through a small scratch buffer.
    const socket = connect({
      host, port, noDelay: true,
      onread: {
        buffer: () => (view && received < size ? view.subarray(received, Math.min(size, received + READ_BYTES)) : scratch),
        callback: (n: number, buf: Uint8Array) => {
          if (size < 0) onHeaderBytes(buf.subarray(0, n));
          else if (!view) early.push(Buffer.from(buf.subarray(0, n)));
          else {
            if (buf === scratch) view.set(buf.subarray(0, n), received);
            received += n;
            counted();
          }
          return true;
        },
      },
    });
    const request = Buffer.from(JSON.stringify({ token, objectId }));
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(request.length, 0);
    socket.write(Buffer.concat([OBJECT_TRANSFER_MAGIC, prefix, request]));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const message = `transfer of ${objectId} from ${address} failed: ${err.message}`;
      finish(CONNECTION_LOST.has(err.code ?? '') ? new ObjectHolderUnreachableError(message) : new ObjectTransferError(message));
    });
    socket.on('close', () => finish(new ObjectTransferError(`the holder at ${address} closed the transfer of ${objectId} after ${received} of ${size < 0 ? '?' : size} bytes`)));
  });
}
