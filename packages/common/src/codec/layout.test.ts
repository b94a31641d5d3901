import { describe, it, expect } from 'vitest';
import {
  ENCODED_HEADER_SIZE,
  SECTION_ALIGNMENT,
  decodeFromBuffer,
  encodeToBuffer,
  encodeValue,
  encodedSize,
  readEncoded,
  readLayout,
  writeEncoded,
  encodedPieces,
  headLength,
  readHead,
  decodeHeadAndSections,
  type Encoded,
} from './index.js';
import { CorruptValueError, SerializationError } from '../errors.js';

class Ref {
  constructor(readonly id: string) {}
}
const isRef = (v: object): string | undefined => (v instanceof Ref ? v.id : undefined);
const reviveRef = (id: string): Ref => new Ref(id);

/** Writes `e` into a fresh ArrayBuffer at `byteOffset`; returns the exact block. */
function place(e: Encoded, byteOffset: number): Uint8Array {
  const size = encodedSize(e, byteOffset);
  const ab = new ArrayBuffer(byteOffset + size + 100);
  const target = new Uint8Array(ab, byteOffset, size + 100);
  const written = writeEncoded(e, target);
  expect(written).toBe(size);
  return new Uint8Array(ab, byteOffset, written);
}

function sample(): { f64: Float64Array; f32: Float32Array; buf: Buffer; i16: Int16Array; ab: ArrayBuffer } {
  const f64 = new Float64Array(5000).map((_, i) => i * 0.5);
  const f32 = new Float32Array(3001).map((_, i) => -i);
  const buf = Buffer.alloc(4099, 0x5a);
  const i16 = new Int16Array(1500).map((_, i) => i - 700);
  const ab = new ArrayBuffer(2000);
  new Uint8Array(ab).fill(3);
  return { f64, f32, buf, i16, ab };
}

describe('contiguous layout', () => {
  it('puts every section at a multiple of 64 from the ArrayBuffer start, whatever the byteOffset', () => {
    const value = sample();
    const e = encodeValue(value);
    expect(e.buffers).toHaveLength(5);
    for (const byteOffset of [0, 8, 24, 64, 100, 4093]) {
      const block = place(e, byteOffset);
      const layout = readLayout(block);
      expect(layout.totalLength).toBe(block.byteLength);
      expect(layout.sections).toHaveLength(5);
      for (const s of layout.sections) expect((byteOffset + s.offset) % SECTION_ALIGNMENT).toBe(0);
      expect(layout.sections.map((s) => s.length)).toEqual(e.buffers.map((b) => b.byteLength));
      expect(layout.meta.offset).toBe(ENCODED_HEADER_SIZE + 16 * 5);
      const out = readEncoded<typeof value>(block);
      expect(out.f64).toEqual(value.f64);
      expect(out.f32).toEqual(value.f32);
      expect(out.buf.equals(value.buf)).toBe(true);
      expect(out.i16).toEqual(value.i16);
      expect(new Uint8Array(out.ab)).toEqual(new Uint8Array(value.ab));
    }
  });

  it('reads binary sections with zero copies: views over the source ArrayBuffer', () => {
    const value = sample();
    const block = place(encodeValue(value), 24);
    const out = readEncoded<typeof value>(block);
    for (const view of [out.f64, out.f32, out.buf, out.i16]) {
      expect(view.buffer).toBe(block.buffer);
      expect(view.byteOffset % 64).toBe(0);
    }
    // mutating the source bytes shows through the decoded arrays
    new DataView(block.buffer).setFloat64(out.f64.byteOffset + 8 * 10, 1234.5, true);
    expect(out.f64[10]).toBe(1234.5);
    block[out.buf.byteOffset - block.byteOffset] = 0x01;
    expect(out.buf[0]).toBe(0x01);
    // and the value arrives unchanged otherwise
    expect(out.f64[11]).toBe(5.5);
  });

  it('copies an ArrayBuffer section (a JS ArrayBuffer cannot alias part of another)', () => {
    const ab = new ArrayBuffer(4096);
    new Uint8Array(ab).fill(7);
    const block = place(encodeValue({ ab }), 0);
    const out = readEncoded<{ ab: ArrayBuffer }>(block);
    expect(out.ab).not.toBe(block.buffer);
    expect(new Uint8Array(out.ab)).toEqual(new Uint8Array(ab));
  });

  it('falls back to copying a section that lost its alignment, and only that one', () => {
    const value = sample();
    const aligned = place(encodeValue(value), 0);
    const moved = new Uint8Array(new ArrayBuffer(aligned.byteLength + 3), 3); // 3 bytes off: nothing aligned
    moved.set(aligned);
    const out = readEncoded<typeof value>(moved);
    expect(out.f64).toBeInstanceOf(Float64Array);
    expect(out.f64).toEqual(value.f64);
    expect(out.f32).toEqual(value.f32);
    expect(out.i16).toEqual(value.i16);
    expect(out.f64.buffer).not.toBe(moved.buffer); // copied
    expect(out.buf.buffer).toBe(moved.buffer); // a Buffer (1-byte elements) is still a view
    moved[out.f64.byteOffset] = 0xff; // unrelated bytes: the copy does not change
    moved.fill(0, moved.byteLength - 10);
    expect(out.f64).toEqual(value.f64);
    // 4 bytes off: Float32/Int16 stay views, Float64 is copied
    const four = new Uint8Array(new ArrayBuffer(aligned.byteLength + 4), 4);
    four.set(aligned);
    const out4 = readEncoded<typeof value>(four);
    expect(out4.f64.buffer).not.toBe(four.buffer);
    expect(out4.f32.buffer).toBe(four.buffer);
    expect(out4.i16.buffer).toBe(four.buffer);
    expect(out4.f64).toEqual(value.f64);
  });

  it('refuses a target that is too small, and reports the size it needs', () => {
    const e = encodeValue(new Float64Array(1000));
    const size = encodedSize(e);
    expect(() => writeEncoded(e, new Uint8Array(size - 1))).toThrow(RangeError);
    expect(() => writeEncoded(e, new Uint8Array(size - 1))).toThrow(`needs ${size}`);
  });

  it('stores ref ids in the block and revives them', () => {
    const value = { a: new Ref('aa'), list: [new Ref('bb'), new Float64Array(1000)] };
    const block = place(encodeValue(value, { isRef }), 0);
    expect(readLayout(block).refs).toEqual(['aa', 'bb']);
    const out = readEncoded<typeof value>(block, { reviveRef });
    expect(out.a).toEqual(new Ref('aa'));
    expect(out.list[0]).toEqual(new Ref('bb'));
    expect(out.list[1]).toBeInstanceOf(Float64Array);
    expect((out.list[1] as Float64Array).buffer).toBe(block.buffer);
  });

  it('encodeToBuffer makes one Buffer in the same layout, including sections', () => {
    const value = { f: new Float32Array(2000).fill(0.5), s: 'x' };
    const buf = encodeToBuffer(value);
    expect(Buffer.isBuffer(buf)).toBe(true);
    expect(readLayout(buf).sections[0]!.offset % 64).toBe(0);
    const out = decodeFromBuffer<typeof value>(buf);
    expect(out.f).toEqual(value.f);
    expect(out.f.buffer).toBe(buf.buffer);
    // a pooled Buffer for a small value: any byteOffset works
    const small = encodeToBuffer({ n: 1 });
    expect(small.byteLength).toBe(ENCODED_HEADER_SIZE + '{"n":1}'.length);
    expect(decodeFromBuffer(small)).toEqual({ n: 1 });
  });
});

describe('streaming a block in pieces (remote clients)', () => {
  it('encodedPieces + readHead + decodeHeadAndSections give back the value, sections not copied on the way out', () => {
    const a = new Float64Array(5000).map((_, i) => i * 1.5);
    const b = new Uint8Array(300_000).fill(9);
    const value = { a, b, name: 'x', refs: ['r1'] };
    const e = encodeValue(value, { isRef: () => undefined });
    const { total, pieces } = encodedPieces(e, 0);
    expect(total).toBe(encodedSize(e, 0));
    // The sections travel as the value's own memory.
    expect(pieces.slice(1).every((p) => p.bytes.buffer === a.buffer || p.bytes.buffer === b.buffer)).toBe(true);
    expect(pieces.length).toBe(3);
    // The pieces land where writeEncoded would put them.
    const whole = new Uint8Array(total);
    writeEncoded(e, whole);
    for (const p of pieces) expect(Buffer.from(whole.subarray(p.offset, p.offset + p.bytes.byteLength)).equals(Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength))).toBe(true);
    // A reader that got the head and each section apart decodes the same value.
    const head = whole.subarray(0, headLength(whole));
    const layout = readHead(head);
    const sections = layout.sections.map((s) => whole.slice(s.offset, s.offset + s.length));
    const back = decodeHeadAndSections<typeof value>(head, layout, sections);
    expect(Array.from(back.a)).toEqual(Array.from(a));
    expect(back.b.length).toBe(b.length);
    expect(back.name).toBe('x');
  });

  it('a JSON value (no sections) streams as its head alone', () => {
    const e = encodeValue({ x: 1, y: [1, 2, 3] }, undefined);
    const { total, pieces } = encodedPieces(e, 0);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.bytes.byteLength).toBe(total);
    const head = pieces[0]!.bytes;
    expect(decodeHeadAndSections(head, readHead(head), [])).toEqual({ x: 1, y: [1, 2, 3] });
  });
});

describe('truncated or corrupt input', () => {
  const blocks: [string, Uint8Array][] = [
    ['JSON', encodeToBuffer({ a: 1, b: 'two' })],
    ['v8', encodeToBuffer({ d: new Date(0), m: new Map([[1, [2, 3]]]), e: new TypeError('t'), f: new Float32Array(8) })],
    ['sections+refs', place(encodeValue({ r: new Ref('x'), f: new Float64Array(600), ab: new ArrayBuffer(2048) }, { isRef }), 0)],
  ];

  it('throws CorruptValueError for every truncation', () => {
    for (const [name, block] of blocks) {
      for (let len = 0; len < block.byteLength; len++) {
        expect(() => readEncoded(block.subarray(0, len), { reviveRef }), `${name} cut at ${len}`).toThrow(
          CorruptValueError,
        );
      }
    }
  });

  it('throws a clear error for a foreign buffer, a wrong version, or a lying header', () => {
    expect(() => decodeFromBuffer(Buffer.from('{"just":"json","padded":"to 32 bytes"}'))).toThrow(
      /not a rayts encoded value/,
    );
    const [, v8block] = blocks[1]!;
    const wrongVersion = Uint8Array.from(v8block);
    wrongVersion[4] = 99;
    expect(() => readEncoded(wrongVersion)).toThrow(/unsupported encoded value version 99/);
    const bigTotal = Uint8Array.from(v8block);
    bigTotal[24] = 0xff;
    bigTotal[25] = 0xff;
    expect(() => readEncoded(bigTotal)).toThrow(/truncated encoded value/);
    const [, secBlock] = blocks[2]!;
    const badSection = Uint8Array.from(secBlock);
    badSection[ENCODED_HEADER_SIZE + 8] = 0xff; // section 0 length
    badSection[ENCODED_HEADER_SIZE + 9] = 0xff;
    badSection[ENCODED_HEADER_SIZE + 10] = 0xff;
    expect(() => readEncoded(badSection, { reviveRef })).toThrow(/section #0 lies outside the block/);
    const hugeHi = Uint8Array.from(secBlock);
    hugeHi[ENCODED_HEADER_SIZE + 7] = 0xff; // section 0 offset, high word
    expect(() => readEncoded(hugeHi, { reviveRef })).toThrow(CorruptValueError);
  });

  it('never crashes, hangs, or throws anything but CorruptValueError on flipped meta bytes', () => {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let thrown = 0;
    for (const [, block] of blocks) {
      const { meta } = readLayout(block);
      for (let trial = 0; trial < 400; trial++) {
        const bad = Uint8Array.from(block);
        for (let k = 0; k <= random(3); k++) bad[meta.offset + random(meta.length)] = random(256);
        try {
          readEncoded(bad, { reviveRef });
        } catch (err) {
          thrown++;
          expect(err, String(err)).toBeInstanceOf(CorruptValueError);
          expect(err).toBeInstanceOf(SerializationError);
          expect((err as Error).message).toMatch(/corrupt encoded value/);
        }
      }
    }
    expect(thrown).toBeGreaterThan(100);
  });
});
