/**
 * Splits a byte stream into length-prefixed frames (u32 little-endian length, then the body).
 * `FrameReader` hands on each body in one Buffer (a view when it lies in one received chunk, else
 * joined once); `FramePartsReader` hands on the received pieces as they are, never joining them, for
 * streams whose large frames are copied straight to their destination (object bytes).
 */
export const FRAME_HEADER_BYTES = 4;

export class FrameLimitError extends Error {}

abstract class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;

  constructor(private maxFrameBytes: number) {}

  /** Changes the largest frame accepted (a handshake reads with a small limit, the session after it with its own). */
  setLimit(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Feeds received bytes; throws FrameLimitError on a frame over the limit (the stream is then unusable). */
  push(data: Buffer): void {
    this.chunks.push(data);
    this.buffered += data.length;
    this.drain();
  }

  /** Delivers the whole frames already buffered (after a redirect). */
  drain(): void {
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) return;
        const head = this.take(FRAME_HEADER_BYTES);
        this.expected = head.readUInt32LE(0);
        if (this.expected > this.maxFrameBytes) throw new FrameLimitError(`frame of ${this.expected} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
      }
      if (this.buffered < this.expected) return;
      const n = this.expected;
      this.expected = -1;
      this.deliver(n);
    }
  }

  /** Takes the next frame body of `n` bytes off the buffer and hands it on. */
  protected abstract deliver(n: number): void;

  /** The next `n` bytes in one Buffer. */
  protected take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      this.buffered -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.length === n ? first : first.subarray(0, n);
    }
    return Buffer.concat(this.takeParts(n), n);
  }

  /** The next `n` bytes as the pieces they arrived in (views, not copies). */
  protected takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const c = this.chunks[0]!;
      if (c.length <= left) {
        parts.push(c);
        this.chunks.shift();
        left -= c.length;
      } else {
        parts.push(c.subarray(0, left));
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return parts;
  }
}

export class FrameReader extends FrameSplitter {
  /** @param onFrame gets each body in order; @param maxFrameBytes a larger length is a protocol error */
  constructor(private onFrame: (body: Buffer) => void, maxFrameBytes: number) {
    super(maxFrameBytes);
  }

  /** Hands the frames from now on (and the bytes still buffered) to another receiver. */
  redirect(onFrame: (body: Buffer) => void): void {
    this.onFrame = onFrame;
  }

  protected deliver(n: number): void {
    this.onFrame(this.take(n));
  }
}

export class FramePartsReader extends FrameSplitter {
  /** @param onFrame gets each body in order, as pieces; @param maxFrameBytes a larger length is a protocol error */
  constructor(private onFrame: (parts: Buffer[]) => void, maxFrameBytes: number) {
    super(maxFrameBytes);
  }

  redirect(onFrame: (parts: Buffer[]) => void): void {
    this.onFrame = onFrame;
  }

  protected deliver(n: number): void {
    this.onFrame(n === 0 ? [] : this.takeParts(n));
  }
}

/** The first `n` bytes of a frame's pieces in one Buffer (a view when the first piece holds them). */
export function prefixOf(parts: readonly Buffer[], n: number): Buffer {
  if (parts.length > 0 && parts[0]!.length >= n) return parts[0]!.subarray(0, n);
  return Buffer.concat(parts, n).subarray(0, n);
}

/** The pieces after the first `n` bytes (views). */
export function partsAfter(parts: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const p of parts) {
    if (skip >= p.length) { skip -= p.length; continue; }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}

/** The pieces joined (no copy for one piece). */
export function joinParts(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
