/**
 * The local data plane: length-prefixed frames of v8-serialized messages over a Unix socket between a
 * raylet and the drivers and workers of its node. gRPC carries everything between hosts; this path
 * carries the per-task traffic, where grpc-js's per-call cost would cap tasks at a few thousand a
 * second.
 *
 * Batches: the messages sent in one tick (up to BATCH_MAX_MESSAGES) travel as one frame holding an
 * array of them; a message sent alone is a frame of its own (the body is the message itself, never an
 * array). One serialization per batch instead of per message: each `v8.serialize` makes a native
 * serializer that lives until a garbage collection, and a driver submitting a million tasks left
 * ~250 bytes of malloc heap per task behind; per message, serializing a batch of 64 task messages
 * takes a fifth of the CPU and a quarter less bytes (objects the messages share, such as the owner's
 * address, are written once), and reading it a third. The reader takes either form. Objects that the
 * messages of one batch share arrive shared: receivers must not change what they receive.
 *
 * Flow control: while more than BACKLOG_AT_BYTES wait in the socket's buffer (the peer reads slower
 * than this side writes: a driver that submits a million tasks at once), further messages wait as
 * they are, not serialized, and are written as the buffer drains, in order. A message waiting there
 * costs a slot in an array instead of its frame (~0.6 KiB for a task). A message must not be changed
 * after it was sent: it may be serialized at the end of the tick, or later.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { FRAME_HEADER_BYTES, FrameLimitError, FrameReader } from './frame_reader.js';

/** A frame larger than this is a protocol error (objects this big go through the object store). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** Bytes waiting in the socket's buffer above which messages wait unserialized (see above). */
export const BACKLOG_AT_BYTES = 4 * 1024 * 1024;

/** Messages in one frame at most (a task message is ~0.5 KiB, so a batch stays far below MAX_FRAME_BYTES). */
export const BATCH_MAX_MESSAGES = 256;

export class FramedConnection<In = unknown, Out = unknown> extends EventEmitter<{ message: [In]; close: [Error | undefined] }> {
  private readonly reader = new FrameReader((body) => this.onFrame(body), MAX_FRAME_BYTES);
  /** Messages sent this tick, written as one frame at its end (or once there are BATCH_MAX_MESSAGES). */
  private batch: Out[] = [];
  private readonly flushBatch = () => this.writeBatch();
  private broken = false;
  private closed = false;
  /** Messages waiting for the socket's buffer to drain, from `backlogHead` on. */
  private backlog: Out[] = [];
  private backlogHead = 0;
  private waitingDrain = false;
  /** `close` was called while messages waited: the socket ends once they are written. */
  private endWhenWritten = false;

  constructor(readonly socket: Socket) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('close', () => this.finish(undefined));
    socket.on('error', (err) => this.finish(err));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(message: Out): void {
    if (this.closed) return;
    if (this.backlogHead < this.backlog.length || this.socket.writableLength >= BACKLOG_AT_BYTES) {
      this.writeBatch(); // what was sent before goes first
      this.backlog.push(message);
      this.awaitDrain();
      return;
    }
    this.batch.push(message);
    if (this.batch.length >= BATCH_MAX_MESSAGES) this.writeBatch();
    else if (this.batch.length === 1) process.nextTick(this.flushBatch);
  }

  /** Messages waiting unserialized for the socket to drain. */
  get backlogLength(): number {
    return this.backlog.length - this.backlogHead;
  }

  /** Writes the messages of this tick: one frame, holding the message itself when it is alone. */
  private writeBatch(): void {
    const batch = this.batch;
    if (batch.length === 0 || this.closed) return;
    this.batch = [];
    this.writeFrame(batch);
  }

  /** One frame of `messages` (sent in order): the lone message itself, or the array of them. */
  private writeFrame(messages: Out[]): void {
    const body = serialize(messages.length === 1 ? messages[0] : messages);
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    header.writeUInt32LE(body.length, 0);
    this.socket.cork();
    this.socket.write(header);
    this.socket.write(body);
    this.socket.uncork();
  }

  private awaitDrain(): void {
    if (this.waitingDrain) return;
    this.waitingDrain = true;
    this.socket.once('drain', () => {
      this.waitingDrain = false;
      this.writeBacklog();
    });
  }

  /** Writes waiting messages while the buffer has room; waits for the next drain if some are left. */
  private writeBacklog(): void {
    if (this.closed) return;
    while (this.backlogHead < this.backlog.length && this.socket.writableLength < BACKLOG_AT_BYTES) {
      const end = Math.min(this.backlog.length, this.backlogHead + BATCH_MAX_MESSAGES);
      const batch = this.backlog.slice(this.backlogHead, end);
      this.backlog.fill(undefined as Out, this.backlogHead, end); // let them go once written
      this.backlogHead = end;
      this.writeFrame(batch);
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
      if (this.endWhenWritten) this.close();
    } else {
      if (this.backlogHead > 65_536) {
        this.backlog = this.backlog.slice(this.backlogHead);
        this.backlogHead = 0;
      }
      this.awaitDrain();
    }
  }

  /** Ends the connection once what was sent is written. */
  close(): void {
    this.writeBatch();
    if (this.backlogLength > 0) {
      this.endWhenWritten = true;
      return;
    }
    this.socket.end();
    this.socket.destroySoon?.();
  }

  private finish(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.batch = [];
    this.backlog = [];
    this.backlogHead = 0;
    this.emit('close', err);
  }

  private onData(data: Buffer): void {
    if (this.broken) return;
    try {
      this.reader.push(data);
    } catch (err) {
      if (!(err instanceof FrameLimitError)) throw err;
      this.fail(err);
    }
  }

  private onFrame(body: Buffer): void {
    if (this.broken) return;
    let decoded: In | In[];
    try {
      decoded = deserialize(body) as In | In[];
    } catch (err) {
      this.fail(new Error(`undecodable frame: ${(err as Error).message}`));
      return;
    }
    forEachMessage(decoded, (m) => this.emit('message', m));
  }

  /** A protocol error: nothing more is read, and the socket goes. */
  private fail(err: Error): void {
    this.broken = true;
    this.socket.destroy(err);
  }
}

/** The messages of a frame's body once deserialized: a batch (an array) or one message. */
export function forEachMessage<T>(decoded: T | T[], each: (message: T) => void): void {
  if (Array.isArray(decoded)) for (const m of decoded) each(m);
  else each(decoded);
}

/** The first message of a frame's body once deserialized (undefined for an empty batch). */
export function firstMessage<T>(decoded: T | T[]): T | undefined {
  return Array.isArray(decoded) ? decoded[0] : decoded;
}

export function connectFramed<In, Out>(path: string, timeoutMs = 10_000): Promise<FramedConnection<In, Out>> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const timer = setTimeout(() => socket.destroy(new Error(`timed out connecting to ${path}`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(new FramedConnection<In, Out>(socket));
    });
    socket.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}
