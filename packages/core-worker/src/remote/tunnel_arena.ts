/**
 * A remote client's ObjectBytes: object bytes stream through the head, which copies them into and
 * out of its node's arena. A write is sent in chunks as the channel's window allows (the chunks are
 * views of the value's own memory, not copies) and ends with a marker the head answers once every
 * byte is in the store; a read asks for byte ranges, and the head streams each into a buffer of the
 * range's size. So neither end holds more than the object and a window.
 */
import { PacketType, encodedPieces, headLength, readHead, RaytsError, type Encoded } from '@rayts/common';
import type { ObjectBytes } from '../object_bytes.js';
import type { Decoder } from '../serialization.js';

/** What the arena needs of the session's channel. */
export interface ArenaChannel {
  send(type: PacketType, req: number, a: number, b: number, payload?: Uint8Array): void;
  whenWritable(): Promise<void>;
  readonly isClosed: boolean;
}

/** Bytes read first: enough for the head of most objects. */
const HEAD_PROBE_BYTES = 64 * 1024;

interface PendingRead {
  target: Uint8Array;
  base: number;
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
}

interface PendingWrite {
  resolve(): void;
  reject(err: Error): void;
}

export class TunnelArena implements ObjectBytes {
  private nextReq = 1;
  private readonly reads = new Map<number, PendingRead>();
  private readonly writes = new Map<number, PendingWrite>();
  private closedWith?: Error;

  constructor(private readonly channel: ArenaChannel, private readonly chunkBytes: number) {}

  async write(offset: number, e: Encoded, _size: number): Promise<void> {
    const req = this.nextReq++;
    const done = new Promise<void>((resolve, reject) => this.writes.set(req, { resolve, reject }));
    done.catch(() => undefined); // awaited below; a failure while sending must not be unhandled meanwhile
    for (const piece of encodedPieces(e, offset).pieces) {
      for (let at = 0; at < piece.bytes.byteLength; at += this.chunkBytes) {
        await this.channel.whenWritable();
        this.throwIfClosed();
        this.channel.send(PacketType.WRITE, req, offset + piece.offset + at, 0, piece.bytes.subarray(at, Math.min(at + this.chunkBytes, piece.bytes.byteLength)));
      }
    }
    this.channel.send(PacketType.WRITE, req, 0, 1);
    return done;
  }

  async read(offset: number, size: number, decoder: Pick<Decoder, 'decodeStreamed'>): Promise<{ value: unknown; shared: boolean }> {
    let head = await this.readRange(offset, Math.min(size, HEAD_PROBE_BYTES));
    const need = headLength(head);
    if (need > head.byteLength) {
      const rest = await this.readRange(offset + head.byteLength, need - head.byteLength);
      const joined = new Uint8Array(need);
      joined.set(head, 0);
      joined.set(rest, head.byteLength);
      head = joined;
    }
    const layout = readHead(head);
    const sections = await Promise.all(layout.sections.map((s) => this.readRange(offset + s.offset, s.length)));
    return { value: decoder.decodeStreamed(head, layout, sections), shared: false };
  }

  /** The head's answer to a write. */
  writeDone(req: number, error: string): void {
    const w = this.writes.get(req);
    this.writes.delete(req);
    if (!w) return;
    if (error) w.reject(new RaytsError(`the head could not store the object: ${error}`));
    else w.resolve();
  }

  readData(req: number, pos: number, parts: readonly Uint8Array[]): void {
    const r = this.reads.get(req);
    if (!r) return;
    let at = pos - r.base;
    for (const part of parts) {
      r.target.set(part, at);
      at += part.byteLength;
    }
  }

  readEnd(req: number, error: string): void {
    const r = this.reads.get(req);
    this.reads.delete(req);
    if (!r) return;
    if (error) r.reject(new RaytsError(`the head could not read the object: ${error}`));
    else r.resolve(r.target);
  }

  /** The session ended: every pending transfer fails with `err`. */
  close(err: Error): void {
    this.closedWith = err;
    for (const r of this.reads.values()) r.reject(err);
    for (const w of this.writes.values()) w.reject(err);
    this.reads.clear();
    this.writes.clear();
  }

  /** Nothing is mapped here: the tunnel closes this (`close`) when its session ends. */
  detach(): void {}

  private readRange(offset: number, length: number): Promise<Uint8Array> {
    this.throwIfClosed();
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.reads.set(req, { target: new Uint8Array(length), base: offset, resolve, reject });
      this.channel.send(PacketType.READ, req, offset, length);
    });
  }

  private throwIfClosed(): void {
    if (this.closedWith) throw this.closedWith;
    if (this.channel.isClosed) throw new RaytsError('the session with the rayts head ended');
  }
}
