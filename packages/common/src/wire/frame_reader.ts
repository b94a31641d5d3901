/**
 * Splits a byte stream into length-prefixed frames (u32 little-endian length, then the body). Bodies
 * are handed on as views when they lie in one received chunk, else joined once.
 */
export const FRAME_HEADER_BYTES = 4;

export class FrameLimitError extends Error {}

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;

  /** @param onFrame gets each body in order; @param maxFrameBytes a larger length is a protocol error */
  constructor(private onFrame: (body: Buffer) => void, private maxFrameBytes: number) {}

  /** Changes the largest frame accepted (a handshake reads with a small limit, the session after it with its own). */
  setLimit(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Hands the frames from now on (and the bytes still buffered) to another receiver. */
  redirect(onFrame: (body: Buffer) => void): void {
    this.onFrame = onFrame;
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
      const body = this.take(this.expected);
      this.expected = -1;
      this.onFrame(body);
    }
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length === n) {
      this.buffered -= n;
      return this.chunks.shift()!;
    }
    if (this.chunks[0]!.length > n) {
      const first = this.chunks[0]!;
      this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const part = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, part);
      filled += part;
      if (part === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(part);
    }
    this.buffered -= n;
    return out;
  }
}
