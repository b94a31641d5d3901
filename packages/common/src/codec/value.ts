/**
 * encodeValue / decodeValue: a value ⇄ { meta, buffers, refs }.
 *
 * meta is JSON text (small plain data: the fast path), the single byte 0x00 (a top-level
 * `undefined`), or v8's wire format (first byte 0xFF), laid out as
 *   v8 header, varint nArrayBuffers, varint nErrors, root value, [error payloads when nErrors > 0]
 * ArrayBufferViews are v8 "host objects" that we write as small records, one varint
 * `typeIndex << 3 | mode` followed by:
 *   MODE_INLINE       varint byteLength, raw bytes             (views up to the threshold)
 *   MODE_OUT_OF_BAND  varint section index                     (the bytes are buffers[index])
 *   MODE_REF          varint index into refs                   (revived with reviveRef)
 *   MODE_ERROR        varint index into the error payloads     (typeIndex = built-in Error class)
 * Out-of-band ArrayBuffers (not views) are v8 "transferred" buffers with ids 0..nArrayBuffers-1,
 * which are also the first section indexes.
 */
import v8 from 'node:v8';
import { CorruptValueError, RaytsError, SerializationError } from '../errors.js';
import { serializationFailure } from './diagnose.js';
import { errorShell, fillError, isJsonPrimitive, scanValue, Substituter } from './scan.js';
import {
  DEFAULT_OUT_OF_BAND_THRESHOLD,
  Marker,
  MODE_ERROR,
  MODE_INLINE,
  MODE_OUT_OF_BAND,
  MODE_REF,
  VIEW_TYPES,
  viewTypeIndex,
  type DecodeOptions,
  type EncodeOptions,
  type Encoded,
  type ErrorPayload,
} from './types.js';

const V8_VERSION_TAG = 0xff;
const MAX_INLINE = 0xffffffff;
const NO_REFS: string[] = [];
const NO_BUFFERS: Uint8Array[] = [];

/** Raised inside the serializer; turned into a SerializationError with a path. */
class CloneFailure extends RaytsError {}

/** Node's internal serializer hooks, which @types/node does not declare. */
interface SerializerHooks {
  _writeHostObject(object: object): void;
  _getDataCloneError(message: string): Error;
  _getSharedArrayBufferId(sab: SharedArrayBuffer): number;
}

class Writer extends v8.DefaultSerializer implements SerializerHooks {
  readonly buffers: Uint8Array[] = [];
  badHost: object | undefined;

  constructor(readonly threshold: number) {
    super();
  }

  _writeHostObject(v: object): void {
    if (v instanceof Marker) {
      this.writeUint32(v.tag);
      this.writeUint32(v.index);
      return;
    }
    const t = ArrayBuffer.isView(v) ? viewTypeIndex(v) : -1;
    if (t < 0) {
      this.badHost = v;
      throw new CloneFailure(`cannot serialize native object ${Object.prototype.toString.call(v)}`);
    }
    const view = v as ArrayBufferView;
    const len = view.byteLength;
    const bytes = new Uint8Array(view.buffer, view.byteOffset, len);
    if (len > this.threshold || len > MAX_INLINE) {
      this.writeUint32((t << 3) | MODE_OUT_OF_BAND);
      this.writeUint32(this.buffers.push(bytes) - 1);
    } else {
      this.writeUint32((t << 3) | MODE_INLINE);
      this.writeUint32(len);
      this.writeRawBytes(bytes);
    }
  }

  _getDataCloneError(message: string): Error {
    return new CloneFailure(message);
  }

  _getSharedArrayBufferId(sab: SharedArrayBuffer): number {
    this.badHost = sab;
    throw new CloneFailure('cannot serialize a SharedArrayBuffer');
  }
}

/** Internal result: `json` set means meta is that JSON text (not yet UTF-8 encoded). */
export interface Prepared {
  json: string | undefined;
  meta: Uint8Array | undefined;
  buffers: Uint8Array[];
  refs: string[];
}

function threshold(options: EncodeOptions | undefined): number {
  const t = options?.outOfBandThreshold;
  if (t === undefined) return DEFAULT_OUT_OF_BAND_THRESHOLD;
  if (!(t >= 0)) throw new RangeError(`outOfBandThreshold must be >= 0, got ${t}`);
  return t;
}

/** Holds the serializer (made only when needed: creating one costs about a microsecond). */
interface WriterSlot {
  threshold: number;
  writer?: Writer;
}

/** Encodes without failure diagnosis (used by the diagnosis itself to probe sub-values). */
function prepareRaw(value: unknown, options: EncodeOptions | undefined, slot: WriterSlot): Prepared {
  let root = value;
  let refs = NO_REFS;
  let errors: ErrorPayload[] | undefined;
  let arrayBuffers: ArrayBuffer[] | undefined;
  if (typeof value === 'object' && value !== null) {
    const scan = scanValue(value, options?.isRef, slot.threshold);
    if (scan.json) return { json: JSON.stringify(value), meta: undefined, buffers: NO_BUFFERS, refs: NO_REFS };
    arrayBuffers = scan.arrayBuffers;
    if (scan.refIds !== undefined || scan.hasErrors) {
      const sub = new Substituter(scan.refIds);
      root = sub.clone(value);
      refs = sub.refs;
      if (sub.errors.length > 0) errors = sub.errors;
    }
  } else if (value === null || isJsonPrimitive(value)) {
    return { json: JSON.stringify(value), meta: undefined, buffers: NO_BUFFERS, refs: NO_REFS };
  } else if (value === undefined) {
    return { json: undefined, meta: new Uint8Array([UNDEFINED_META]), buffers: NO_BUFFERS, refs: NO_REFS };
  }
  const writer = (slot.writer = new Writer(slot.threshold));
  const nArrayBuffers = arrayBuffers?.length ?? 0;
  for (let i = 0; i < nArrayBuffers; i++) {
    const ab = arrayBuffers![i]!;
    writer.transferArrayBuffer(i, ab);
    writer.buffers.push(new Uint8Array(ab));
  }
  writer.writeHeader();
  writer.writeUint32(nArrayBuffers);
  writer.writeUint32(errors === undefined ? 0 : errors.length);
  writer.writeValue(root);
  if (errors !== undefined) writer.writeValue(errors);
  return { json: undefined, meta: writer.releaseBuffer(), buffers: writer.buffers, refs };
}

/** Encodes a value; throws SerializationError naming what cannot be serialized and where. */
export function prepare(value: unknown, options: EncodeOptions | undefined): Prepared {
  const slot: WriterSlot = { threshold: threshold(options) };
  try {
    return prepareRaw(value, options, slot);
  } catch (err) {
    if (!(err instanceof CloneFailure) && !(err instanceof Error && err.name === 'DataCloneError')) throw err;
    throw serializationFailure(value, options?.path ?? 'value', options?.isRef, slot.writer?.badHost, err, (v) => {
      try {
        prepareRaw(v, options, { threshold: slot.threshold });
        return false;
      } catch {
        return true;
      }
    });
  }
}

/**
 * Encodes `value`. Binary sections in the result are views over the value's own memory: write
 * them out (writeEncoded) before the value is mutated.
 */
export function encodeValue(value: unknown, options?: EncodeOptions): Encoded {
  const p = prepare(value, options);
  return { meta: p.meta ?? Buffer.from(p.json!, 'utf8'), buffers: p.buffers, refs: p.refs };
}

// ------------------------------------------------------------------------------------------------
// Decoding

interface DeserializerInternals {
  buffer: Uint8Array;
  _readRawBytes(length: number): number;
}

/** Marks an exception thrown by the caller's reviveRef, so it is not reported as corruption. */
class UserError {
  constructor(readonly error: unknown) {}
}

class Reader extends v8.DefaultDeserializer {
  readonly shells: (Error | undefined)[] = [];
  nErrors = 0;

  constructor(
    meta: Uint8Array,
    private readonly sections: readonly Uint8Array[],
    private readonly refs: readonly string[],
    private readonly reviveRef: ((id: string) => object) | undefined,
  ) {
    super(meta as unknown as NodeJS.TypedArray);
  }

  _readHostObject(): object {
    const tag = this.readUint32();
    const mode = tag & 7;
    const type = tag >>> 3;
    switch (mode) {
      case MODE_INLINE: {
        const vt = VIEW_TYPES[type];
        if (vt === undefined) throw new CorruptValueError(`corrupt encoded value: unknown view type ${type}`);
        const len = this.readUint32();
        const self = this as unknown as DeserializerInternals;
        const at = self._readRawBytes(len);
        if (len % vt.bytesPerElement !== 0) {
          throw new CorruptValueError(`corrupt encoded value: ${len} bytes is not a whole ${vt.name}`);
        }
        const meta = self.buffer;
        const start = meta.byteOffset + at;
        // a copy, so that small views never alias the block they were read from
        const copy = meta.buffer instanceof ArrayBuffer ? meta.buffer.slice(start, start + len) : meta.slice(at, at + len).buffer;
        return vt.make(copy, 0, len);
      }
      case MODE_OUT_OF_BAND: {
        const vt = VIEW_TYPES[type];
        if (vt === undefined) throw new CorruptValueError(`corrupt encoded value: unknown view type ${type}`);
        return viewOver(vt, this.section(this.readUint32()));
      }
      case MODE_REF: {
        const index = this.readUint32();
        const id = this.refs[index];
        if (id === undefined) throw new CorruptValueError(`corrupt encoded value: ref #${index} is not listed`);
        if (this.reviveRef === undefined) {
          throw new SerializationError(`the value holds object refs (${this.refs.join(', ')}) but no reviveRef was given`);
        }
        let revived: unknown;
        try {
          revived = this.reviveRef(id);
        } catch (err) {
          throw new UserError(err);
        }
        if ((typeof revived !== 'object' && typeof revived !== 'function') || revived === null) {
          throw new UserError(new TypeError(`reviveRef(${JSON.stringify(id)}) must return an object`));
        }
        return revived;
      }
      case MODE_ERROR: {
        const index = this.readUint32();
        if (index >= this.nErrors) throw new CorruptValueError(`corrupt encoded value: error #${index} is not listed`);
        const shell = errorShell(type);
        this.shells[index] = shell;
        return shell;
      }
      default:
        throw new CorruptValueError(`corrupt encoded value: unknown record mode ${mode}`);
    }
  }

  section(index: number): Uint8Array {
    const s = this.sections[index];
    if (s === undefined) throw new CorruptValueError(`corrupt encoded value: section #${index} does not exist`);
    return s;
  }
}

/** A view of type `vt` over a section: zero-copy when aligned, else over a copy of the section. */
function viewOver(vt: (typeof VIEW_TYPES)[number], section: Uint8Array): ArrayBufferView {
  const len = section.byteLength;
  if (len % vt.bytesPerElement !== 0) {
    throw new CorruptValueError(`corrupt encoded value: ${len} bytes is not a whole ${vt.name}`);
  }
  if (section.byteOffset % vt.bytesPerElement === 0) return vt.make(section.buffer, section.byteOffset, len);
  const copy = Buffer.allocUnsafeSlow(len); // misaligned for its element type: copy this one section
  copy.set(section);
  return vt.make(copy.buffer, 0, len);
}

/** The ArrayBuffer for an out-of-band ArrayBuffer section (a copy unless the section is a whole one). */
function arrayBufferOf(section: Uint8Array): ArrayBuffer {
  const ab = section.buffer;
  if (ab instanceof ArrayBuffer && section.byteOffset === 0 && section.byteLength === ab.byteLength) return ab;
  return section.slice().buffer as ArrayBuffer;
}

/** Buffer's UTF-8 decoder; works on any Uint8Array (no Buffer view needs to be made). */
export const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, start: number, end: number): string })
  .utf8Slice;

/** meta of a top-level `undefined` (JSON cannot say it; v8 would take microseconds). */
export const UNDEFINED_META = 0x00;

/** Decodes a meta that is not v8 data: JSON text, or the one-byte `undefined`. */
export function decodeSimpleMeta(source: Uint8Array, start: number, end: number): unknown {
  if (end - start === 1 && source[start] === UNDEFINED_META) return undefined;
  try {
    return JSON.parse(utf8Slice.call(source, start, end));
  } catch (err) {
    throw new CorruptValueError(`corrupt encoded value: ${(err as Error).message}`, err);
  }
}

/** Decodes meta + sections (+ ref ids). Binary sections come back as views, not copies. */
export function decodeParts(
  meta: Uint8Array,
  sections: readonly Uint8Array[],
  refs: readonly string[],
  options: DecodeOptions | undefined,
): unknown {
  if (meta.byteLength === 0) throw new CorruptValueError('corrupt encoded value: empty meta');
  try {
    if (meta[0] !== V8_VERSION_TAG) return decodeSimpleMeta(meta, 0, meta.byteLength);
    const r = new Reader(meta, sections, refs, options?.reviveRef);
    r.readHeader();
    const nArrayBuffers = r.readUint32();
    const nErrors = r.readUint32();
    if (nArrayBuffers > sections.length) {
      throw new CorruptValueError(`corrupt encoded value: ${nArrayBuffers} ArrayBuffers but ${sections.length} sections`);
    }
    if (nErrors > meta.byteLength) throw new CorruptValueError(`corrupt encoded value: ${nErrors} errors`);
    r.nErrors = nErrors;
    for (let i = 0; i < nArrayBuffers; i++) r.transferArrayBuffer(i, arrayBufferOf(sections[i]!));
    const value = r.readValue();
    if (nErrors > 0) {
      const payloads = r.readValue() as ErrorPayload[];
      if (!Array.isArray(payloads) || payloads.length !== nErrors) {
        throw new CorruptValueError('corrupt encoded value: bad error payloads');
      }
      r.shells.forEach((shell, i) => {
        const p = payloads[i];
        if (shell !== undefined && p !== null && typeof p === 'object') fillError(shell, p);
      });
    }
    return value;
  } catch (err) {
    if (err instanceof UserError) throw err.error;
    if (err instanceof SerializationError) throw err;
    throw new CorruptValueError(`corrupt encoded value: ${(err as Error)?.message ?? String(err)}`, err);
  }
}

/**
 * Decodes an Encoded. Out-of-band views alias `e.buffers` (for a fresh encodeValue result, that
 * is the original value's memory).
 */
export function decodeValue<T = unknown>(e: Encoded, options?: DecodeOptions): T {
  return decodeParts(e.meta, e.buffers, e.refs, options) as T;
}
