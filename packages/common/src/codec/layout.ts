/**
 * The contiguous layout an encoded value takes in the object store and in RPC messages.
 *
 *   offset  size
 *   0       4     magic 'RTSV'
 *   4       1     version (1)
 *   5       1     flags: bit 0 = holds refs, bit 1 = meta is not v8 data (JSON text / undefined)
 *   6       2     reserved (0)
 *   8       4     meta length
 *   12      4     number of binary sections
 *   16      4     refs length (UTF-8 JSON array of ref ids; 0 when none)
 *   20      4     reserved (0)
 *   24      8     total length of the block
 *   32      16×n  per section: offset, length (u64 each, relative to the block start)
 *   …             refs, meta, then each section at an offset that is a multiple of 64 from the
 *                 start of the target's ArrayBuffer (padding zeroed)
 * All integers little endian. Sections are aligned relative to the ArrayBuffer, not the block, so
 * a block written at any byteOffset still gives aligned zero-copy views; a block moved to another
 * alignment still reads (sections that lost their alignment are copied).
 */
import { decodeParts, decodeSimpleMeta, prepare } from './value.js';
import { CorruptValueError } from '../errors.js';
import { type DecodeOptions, type EncodeOptions, type Encoded } from './types.js';

export const ENCODED_MAGIC = 0x56535452; // bytes 'R' 'T' 'S' 'V'
export const ENCODED_VERSION = 1;
export const ENCODED_HEADER_SIZE = 32;
/** Sections start at multiples of this from the start of the target's ArrayBuffer. */
export const SECTION_ALIGNMENT = 64;

const FLAG_REFS = 1;
const FLAG_JSON = 2;
const ENTRY_SIZE = 16;
const TWO_32 = 2 ** 32;
const V8_VERSION_TAG = 0xff;

export interface EncodedLayout {
  /** Bytes the block occupies. */
  totalLength: number;
  meta: { offset: number; length: number };
  /** Binary sections, offsets relative to the block start. */
  sections: { offset: number; length: number }[];
  refs: string[];
}

function refsBytes(refs: readonly string[]): Buffer | undefined {
  return refs.length === 0 ? undefined : Buffer.from(JSON.stringify(refs), 'utf8');
}

function alignUp(absolute: number): number {
  return Math.ceil(absolute / SECTION_ALIGNMENT) * SECTION_ALIGNMENT;
}

/** Section offsets (relative to the block) and total length for a block starting at `base`. */
function plan(e: Encoded, refsLen: number, base: number): { offsets: number[]; total: number } {
  let pos = ENCODED_HEADER_SIZE + ENTRY_SIZE * e.buffers.length + refsLen + e.meta.byteLength;
  const offsets: number[] = [];
  for (const b of e.buffers) {
    pos = alignUp(base + pos) - base;
    offsets.push(pos);
    pos += b.byteLength;
  }
  return { offsets, total: pos };
}

/**
 * Bytes needed to write `e` into a target whose byteOffset (within its ArrayBuffer) is
 * `byteOffset`; the default 0 stands for any multiple of 64.
 */
export function encodedSize(e: Encoded, byteOffset = 0): number {
  return plan(e, refsBytes(e.refs)?.byteLength ?? 0, byteOffset % SECTION_ALIGNMENT).total;
}

// Header fields are read and written byte by byte: on these VMs each DataView costs ~0.3 µs,
// more than the rest of a small value's decode.
function put32(t: Uint8Array, at: number, v: number): void {
  t[at] = v & 0xff;
  t[at + 1] = (v >>> 8) & 0xff;
  t[at + 2] = (v >>> 16) & 0xff;
  t[at + 3] = (v >>> 24) & 0xff;
}

function get32(s: Uint8Array, at: number): number {
  return (s[at]! | (s[at + 1]! << 8) | (s[at + 2]! << 16)) + s[at + 3]! * 0x1000000;
}

function put64(t: Uint8Array, at: number, v: number): void {
  put32(t, at, v % TWO_32);
  put32(t, at + 4, Math.floor(v / TWO_32));
}

function get64(s: Uint8Array, at: number): number {
  const hi = get32(s, at + 4);
  if (hi >= 1 << 21) throw new CorruptValueError('corrupt encoded value: a 64-bit length or offset is out of range');
  return hi * TWO_32 + get32(s, at);
}

function writeHeader(
  t: Uint8Array,
  flags: number,
  metaLen: number,
  nBuffers: number,
  refsLen: number,
  total: number,
): void {
  if (metaLen >= TWO_32) throw new RangeError(`encoded meta is too large (${metaLen} bytes)`);
  put32(t, 0, ENCODED_MAGIC);
  t[4] = ENCODED_VERSION;
  t[5] = flags;
  t[6] = 0;
  t[7] = 0;
  put32(t, 8, metaLen);
  put32(t, 12, nBuffers);
  put32(t, 16, refsLen);
  put32(t, 20, 0);
  put64(t, 24, total);
}

/**
 * Writes `e` into `target` in the contiguous layout; returns the number of bytes written
 * (encodedSize(e, target.byteOffset)). Costs one copy of each binary section.
 */
export function writeEncoded(e: Encoded, target: Uint8Array): number {
  const refs = refsBytes(e.refs);
  const refsLen = refs?.byteLength ?? 0;
  const base = target.byteOffset % SECTION_ALIGNMENT;
  const { offsets, total } = plan(e, refsLen, base);
  if (target.byteLength < total) {
    throw new RangeError(`target holds ${target.byteLength} bytes but the encoded value needs ${total}`);
  }
  const n = e.buffers.length;
  writeHead(e, target, offsets, total, refs);
  let pos = ENCODED_HEADER_SIZE + ENTRY_SIZE * n + refsLen + e.meta.byteLength;
  for (let i = 0; i < n; i++) {
    const at = offsets[i]!;
    if (at > pos) target.fill(0, pos, at);
    const b = e.buffers[i]!;
    target.set(b, at);
    pos = at + b.byteLength;
  }
  return total;
}

interface Parsed {
  total: number;
  metaOffset: number;
  metaLen: number;
  sections: { offset: number; length: number }[];
  refs: string[];
}

function parse(source: Uint8Array): Parsed {
  const p = parseHead(source);
  if (p.total > source.byteLength) throw new CorruptValueError(`truncated encoded value: the header says ${p.total} bytes, got ${source.byteLength}`);
  return p;
}

/**
 * Bytes a block's head needs (header, section table, refs, meta: everything before the first
 * section), read from its first ENCODED_HEADER_SIZE bytes.
 */
export function headLength(header: Uint8Array): number {
  if (header.byteLength < ENCODED_HEADER_SIZE) throw new CorruptValueError(`truncated encoded value: ${header.byteLength} bytes, the header alone needs ${ENCODED_HEADER_SIZE}`);
  return ENCODED_HEADER_SIZE + ENTRY_SIZE * get32(header, 12) + get32(header, 16) + get32(header, 8);
}

/** The layout read from a block's head alone (headLength bytes or more), validated against the total it declares. */
export function readHead(head: Uint8Array): EncodedLayout {
  const p = parseHead(head);
  return { totalLength: p.total, meta: { offset: p.metaOffset, length: p.metaLen }, sections: p.sections, refs: p.refs };
}

/**
 * Decodes a block whose head and sections were received apart (a stream): `head` holds everything up
 * to the meta's end, `sections` each section's bytes (views, not copied).
 */
export function decodeHeadAndSections<T = unknown>(head: Uint8Array, layout: EncodedLayout, sections: readonly Uint8Array[], options?: DecodeOptions): T {
  const { offset, length } = layout.meta;
  if (sections.length === 0 && length > 0 && head[offset] !== V8_VERSION_TAG) return decodeSimpleMeta(head, offset, offset + length) as T;
  return decodeParts(head.subarray(offset, offset + length), sections, layout.refs, options) as T;
}

/**
 * The pieces of `e` in the contiguous layout for a block starting at `base` (mod 64), each with its
 * offset in the block: the head (written into a new buffer), then each section (the value's own
 * memory, not copied). Padding between pieces is left out: a reader skips it.
 */
export function encodedPieces(e: Encoded, base = 0): { total: number; pieces: { offset: number; bytes: Uint8Array }[] } {
  const refsLen = refsBytes(e.refs)?.byteLength ?? 0;
  const { offsets, total } = plan(e, refsLen, base % SECTION_ALIGNMENT);
  const headLen = ENCODED_HEADER_SIZE + ENTRY_SIZE * e.buffers.length + refsLen + e.meta.byteLength;
  const head = Buffer.allocUnsafe(headLen);
  writeHead(e, head, offsets, total);
  const pieces: { offset: number; bytes: Uint8Array }[] = [{ offset: 0, bytes: head }];
  e.buffers.forEach((b, i) => pieces.push({ offset: offsets[i]!, bytes: b }));
  return { total, pieces };
}

function writeHead(e: Encoded, target: Uint8Array, offsets: number[], total: number, refs = refsBytes(e.refs)): void {
  const refsLen = refs?.byteLength ?? 0;
  const n = e.buffers.length;
  const flags = (refsLen > 0 ? FLAG_REFS : 0) | (e.meta[0] !== V8_VERSION_TAG ? FLAG_JSON : 0);
  writeHeader(target, flags, e.meta.byteLength, n, refsLen, total);
  let pos = ENCODED_HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    put64(target, pos, offsets[i]!);
    put64(target, pos + 8, e.buffers[i]!.byteLength);
    pos += ENTRY_SIZE;
  }
  if (refs !== undefined) {
    target.set(refs, pos);
    pos += refsLen;
  }
  target.set(e.meta, pos);
}

function parseHead(source: Uint8Array): Parsed {
  const size = source.byteLength;
  if (size < ENCODED_HEADER_SIZE) {
    throw new CorruptValueError(
      `truncated encoded value: ${size} bytes, the header alone needs ${ENCODED_HEADER_SIZE}`,
    );
  }
  const magic = get32(source, 0);
  if (magic !== ENCODED_MAGIC) {
    throw new CorruptValueError(`not a rayts encoded value (magic 0x${magic.toString(16).padStart(8, '0')})`);
  }
  const version = source[4]!;
  if (version !== ENCODED_VERSION) {
    throw new CorruptValueError(`unsupported encoded value version ${version} (this build reads ${ENCODED_VERSION})`);
  }
  const flags = source[5]!;
  const metaLen = get32(source, 8);
  const n = get32(source, 12);
  const refsLen = get32(source, 16);
  const total = get64(source, 24);
  const tableEnd = ENCODED_HEADER_SIZE + ENTRY_SIZE * n;
  const metaOffset = tableEnd + refsLen;
  let end = metaOffset + metaLen;
  if (end > size) throw new CorruptValueError(`truncated encoded value: its head needs ${end} bytes, got ${size}`);
  if (end > total) {
    throw new CorruptValueError(`corrupt encoded value: header fields overrun the ${total}-byte block`);
  }
  if ((refsLen > 0) !== ((flags & FLAG_REFS) !== 0)) throw new CorruptValueError('corrupt encoded value: refs flag');
  const sections: { offset: number; length: number }[] = new Array(n);
  for (let i = 0, at = ENCODED_HEADER_SIZE; i < n; i++, at += ENTRY_SIZE) {
    const offset = get64(source, at);
    const length = get64(source, at + 8);
    if (offset < end || offset + length > total) {
      throw new CorruptValueError(`corrupt encoded value: section #${i} lies outside the block`);
    }
    sections[i] = { offset, length };
    end = offset + length;
  }
  let refs: string[] = [];
  if (refsLen > 0) {
    try {
      refs = JSON.parse(Buffer.from(source.buffer, source.byteOffset + tableEnd, refsLen).toString('utf8'));
    } catch (err) {
      throw new CorruptValueError('corrupt encoded value: unreadable refs table', err);
    }
    if (!Array.isArray(refs) || !refs.every((r) => typeof r === 'string')) {
      throw new CorruptValueError('corrupt encoded value: unreadable refs table');
    }
  }
  return { total, metaOffset, metaLen, sections, refs };
}

/** The layout of a block, validated, without decoding the value. */
export function readLayout(source: Uint8Array): EncodedLayout {
  const p = parse(source);
  return { totalLength: p.total, meta: { offset: p.metaOffset, length: p.metaLen }, sections: p.sections, refs: p.refs };
}

/** The ids of the refs held by an encoded block, without decoding it. */
export function readRefs(source: Uint8Array): string[] {
  return parse(source).refs;
}

/**
 * Decodes a block written by writeEncoded / encodeToBuffer. Binary sections are not copied:
 * typed arrays, Buffers and DataViews come back as views over `source.buffer` (a section whose
 * offset is not a multiple of its element size is copied instead). Out-of-band ArrayBuffers (not
 * views) are copied, as a JS ArrayBuffer cannot alias part of another.
 */
export function readEncoded<T = unknown>(source: Uint8Array, options?: DecodeOptions): T {
  const p = parse(source);
  if (p.sections.length === 0 && p.metaLen > 0 && source[p.metaOffset] !== V8_VERSION_TAG) {
    return decodeSimpleMeta(source, p.metaOffset, p.metaOffset + p.metaLen) as T; // no views needed
  }
  const ab = source.buffer;
  const base = source.byteOffset;
  const sections = p.sections.map((s) => new Uint8Array(ab, base + s.offset, s.length));
  const meta = new Uint8Array(ab, base + p.metaOffset, p.metaLen);
  return decodeParts(meta, sections, p.refs, options) as T;
}

/** Encodes `value` into one Buffer in the contiguous layout (the small-object / RPC path). */
export function encodeToBuffer(value: unknown, options?: EncodeOptions): Buffer {
  const p = prepare(value, options);
  if (p.json !== undefined) {
    const len = Buffer.byteLength(p.json, 'utf8');
    const buf = Buffer.allocUnsafe(ENCODED_HEADER_SIZE + len);
    writeHeader(buf, FLAG_JSON, len, 0, 0, buf.byteLength);
    buf.write(p.json, ENCODED_HEADER_SIZE, 'utf8');
    return buf;
  }
  const e: Encoded = { meta: p.meta!, buffers: p.buffers, refs: p.refs };
  const size = encodedSize(e, 0);
  // With sections the padding depends on where the block starts: use a fresh, 0-offset buffer.
  const buf = e.buffers.length > 0 ? Buffer.allocUnsafeSlow(size) : Buffer.allocUnsafe(size);
  writeEncoded(e, buf);
  return buf;
}

/** Decodes a Buffer made by encodeToBuffer (same as readEncoded). */
export function decodeFromBuffer<T = unknown>(buf: Uint8Array, options?: DecodeOptions): T {
  return readEncoded<T>(buf, options);
}
