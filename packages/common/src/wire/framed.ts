/**
 * The local data plane: length-prefixed frames of v8-serialized messages over a Unix socket between a
 * raylet and the drivers and workers of its node. gRPC carries everything between hosts; this path
 * carries the per-task traffic, where grpc-js's per-call cost would cap tasks at a few thousand a
 * second. Sends made in one tick are corked into one write.
 *
 * Flow control: while more than BACKLOG_AT_BYTES wait in the socket's buffer (the peer reads slower
 * than this side writes: a driver that submits a million tasks at once), further messages wait as
 * they are, not serialized, and are written as the buffer drains, in order. A message waiting there
 * costs a slot in an array instead of its frame (~0.6 KiB for a task), and must not be changed after
 * it was sent.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { FRAME_HEADER_BYTES, FrameLimitError, FrameReader } from './frame_reader.js';

/** A frame larger than this is a protocol error (objects this big go through the object store). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** Bytes waiting in the socket's buffer above which messages wait unserialized (see above). */
export const BACKLOG_AT_BYTES = 4 * 1024 * 1024;

export class FramedConnection<In = unknown, Out = unknown> extends EventEmitter<{ message: [In]; close: [Error | undefined] }> {
  private readonly reader = new FrameReader((body) => this.onFrame(body), MAX_FRAME_BYTES);
  private corked = false;
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
      this.backlog.push(message);
      this.awaitDrain();
      return;
    }
    this.write(message);
  }

  /** Messages waiting unserialized for the socket to drain. */
  get backlogLength(): number {
    return this.backlog.length - this.backlogHead;
  }

  private write(message: Out): void {
    const body = serialize(message);
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    header.writeUInt32LE(body.length, 0);
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(header);
    this.socket.write(body);
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
      const message = this.backlog[this.backlogHead]!;
      this.backlog[this.backlogHead++] = undefined as Out; // let it go once written
      this.write(message);
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
    let message: In;
    try {
      message = deserialize(body) as In;
    } catch (err) {
      this.fail(new Error(`undecodable frame: ${(err as Error).message}`));
      return;
    }
    this.emit('message', message);
  }

  /** A protocol error: nothing more is read, and the socket goes. */
  private fail(err: Error): void {
    this.broken = true;
    this.socket.destroy(err);
  }
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
