/**
 * Shared pieces of the value codec: options, the `Encoded` shape, the table of ArrayBufferView
 * classes the codec can rebuild, the marker objects that stand in for refs and errors while a
 * value is serialized, and the error raised for unreadable input.
 */

/** Views and ArrayBuffers with more bytes than this travel out of band (as raw sections). */
export const DEFAULT_OUT_OF_BAND_THRESHOLD = 1024;

export interface EncodeOptions {
  /**
   * Returns the wire id of `value` when it is an object reference (rayts's `ObjectRef`), else
   * undefined. Called for every object the encoder meets except plain objects (`{}`, null
   * prototype), arrays, ArrayBuffers and ArrayBufferViews, so refs must be class instances.
   */
  isRef?: (value: object) => string | undefined;
  /** Views / ArrayBuffers with byteLength above this go out of band; default 1024 bytes. */
  outOfBandThreshold?: number;
  /** Name of the value in error messages (`cannot serialize a function at <path>.x`); default 'value'. */
  path?: string;
}

export interface DecodeOptions {
  /** Rebuilds an object reference from its wire id. Only called when the value holds refs. */
  reviveRef?: (id: string) => object;
}

/**
 * An encoded value. `meta` is the serialized structure (v8 wire format, or JSON text for small
 * plain data: the first byte tells which, v8 data starts with 0xFF); `buffers` are the
 * out-of-band binary sections, views over the caller's memory (not copies); `refs` are the wire
 * ids of the object refs found in the value, each listed once, in first-seen order.
 */
export interface Encoded {
  meta: Uint8Array;
  buffers: Uint8Array[];
  refs: string[];
}


/** Host-record modes (low 3 bits of a record's first varint; the view/error type is above them). */
export const MODE_INLINE = 0;
export const MODE_OUT_OF_BAND = 1;
export const MODE_REF = 2;
export const MODE_ERROR = 3;

export interface ViewType {
  readonly name: string;
  readonly bytesPerElement: number;
  /** Builds a view of this type over `byteLength` bytes at `byteOffset` (no copy). */
  make(buffer: ArrayBufferLike, byteOffset: number, byteLength: number): ArrayBufferView;
}

function typed(
  name: string,
  ctor: { new (b: ArrayBufferLike, o: number, n: number): ArrayBufferView; BYTES_PER_ELEMENT: number },
): ViewType {
  const bpe = ctor.BYTES_PER_ELEMENT;
  return { name, bytesPerElement: bpe, make: (b, o, n) => new ctor(b, o, n / bpe) };
}

/** Indexes are part of the wire format: append only. */
export const VIEW_TYPES: readonly ViewType[] = [
  { name: 'Buffer', bytesPerElement: 1, make: (b, o, n) => Buffer.from(b as ArrayBuffer, o, n) },
  typed('Uint8Array', Uint8Array),
  typed('Int8Array', Int8Array),
  typed('Uint8ClampedArray', Uint8ClampedArray),
  typed('Int16Array', Int16Array),
  typed('Uint16Array', Uint16Array),
  typed('Int32Array', Int32Array),
  typed('Uint32Array', Uint32Array),
  typed('Float32Array', Float32Array),
  typed('Float64Array', Float64Array),
  typed('BigInt64Array', BigInt64Array),
  typed('BigUint64Array', BigUint64Array),
  { name: 'DataView', bytesPerElement: 1, make: (b, o, n) => new DataView(b, o, n) },
];

const TAG_TO_INDEX = new Map<string, number>(
  VIEW_TYPES.map((t, i) => [`[object ${t.name}]`, i] as const).filter(([, i]) => i !== 0),
);
const toStringTag = Object.prototype.toString;

/** Index into VIEW_TYPES of a view's class (subclasses map to their built-in base), or -1. */
export function viewTypeIndex(view: ArrayBufferView): number {
  if (view instanceof Buffer) return 0;
  return TAG_TO_INDEX.get(toStringTag.call(view)) ?? -1;
}

/** Error classes rebuilt on decode; indexes are part of the wire format: append only. */
export const ERROR_TYPES: readonly ErrorConstructor[] = [
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
  AggregateError as unknown as ErrorConstructor,
];

export function errorTypeIndex(err: Error): number {
  for (let i = ERROR_TYPES.length - 1; i > 0; i--) if (err instanceof ERROR_TYPES[i]!) return i;
  return 0;
}

/**
 * Stands in for a ref or an Error while v8 serializes the value. It is a (zero-length) typed
 * array so that v8 hands it to `_writeHostObject`, where it becomes a small record.
 */
export class Marker extends Uint8Array {
  constructor(
    readonly tag: number,
    readonly index: number,
  ) {
    super(0);
  }
}

/** What is kept of an Error: v8's own Error support drops subclass names and custom fields. */
export interface ErrorPayload {
  /** name (read through the prototype chain) */
  n: unknown;
  /** message */
  m: unknown;
  /** stack */
  s: unknown;
  /** own enumerable properties (code, errno, class fields, …) */
  p: Record<string, unknown>;
  /** cause, when the error has an own `cause` */
  c?: unknown;
  /** AggregateError's errors, when own */
  e?: unknown;
}
