/**
 * The pre-walk run before serialization, and the substitution of refs and Errors by markers.
 *
 * The walk finds, in one pass over the object graph (never into ArrayBuffers or views, so a
 * Float64Array of any size costs O(1)): object refs (via `isRef`), Errors (whose subclass name and
 * custom fields v8 would drop), ArrayBuffers big enough to travel out of band, and whether the
 * value is small plain JSON data (encoded with JSON, which is several times faster than v8 for a
 * handful of fields).
 */
import { types } from 'node:util';
import { ERROR_TYPES, errorTypeIndex, Marker, MODE_ERROR, MODE_REF, type ErrorPayload } from './types.js';

/** Values (objects + primitives) above which JSON stops being faster than v8. */
const JSON_MAX_ITEMS = 256;
/** Arrays longer than this are walked by their own keys, so huge sparse arrays stay cheap. */
const DENSE_WALK_LIMIT = 1 << 20;

export interface Scan {
  /** Refs found, by identity → wire id. */
  refIds: Map<object, string> | undefined;
  hasErrors: boolean;
  /** ArrayBuffers (not views) above the threshold, in first-seen order. */
  arrayBuffers: ArrayBuffer[] | undefined;
  /** True when the value round-trips exactly through JSON and is small. */
  json: boolean;
}

/** A primitive that JSON round-trips exactly (strings, booleans, finite numbers other than -0). */
export function isJsonPrimitive(x: unknown): boolean {
  switch (typeof x) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return x === x && x !== Infinity && x !== -Infinity && (x !== 0 || 1 / x > 0);
    default:
      return false;
  }
}

export function scanValue(
  root: object,
  isRef: ((value: object) => string | undefined) | undefined,
  threshold: number,
): Scan {
  let refIds: Map<object, string> | undefined;
  let hasErrors = false;
  let arrayBuffers: ArrayBuffer[] | undefined;
  // JSON is only worth it for small values: once past the budget, stop checking primitives
  let json = true;
  let budget = JSON_MAX_ITEMS;
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  // Hot loop, kept free of closures: a value with 1e5 objects is walked in a few ms.
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) {
      if (json && !isJsonPrimitive(v)) json = false;
      continue;
    }
    if (seen.has(v)) {
      json = false; // shared or cyclic: JSON would duplicate it
      continue;
    }
    seen.add(v);
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      const keys = Object.keys(v);
      const n = keys.length;
      if (json && (budget -= n + 1) < 0) json = false;
      for (let i = 0; i < n; i++) {
        const x = (v as Record<string, unknown>)[keys[i]!];
        if (json || (typeof x === 'object' && x !== null)) stack.push(x);
      }
      continue;
    }
    if (proto === Array.prototype) {
      const a = v as unknown[];
      const n = a.length;
      if (json && (budget -= n + 1) < 0) json = false;
      if (n > DENSE_WALK_LIMIT) {
        json = false;
        for (const k in a) {
          const x = a[k as unknown as number];
          if (typeof x === 'object' && x !== null) stack.push(x);
        }
      } else if (json) {
        for (let i = 0; i < n; i++) stack.push(a[i]); // a hole or undefined is caught as not JSON
      } else {
        for (let i = 0; i < n; i++) {
          const x = a[i];
          if (typeof x === 'object' && x !== null) stack.push(x);
        }
      }
      continue;
    }
    json = false;
    if (ArrayBuffer.isView(v)) continue;
    if (v instanceof ArrayBuffer) {
      if (v.byteLength > threshold) (arrayBuffers ??= []).push(v);
      continue;
    }
    if (isRef !== undefined) {
      const id = isRef(v);
      if (id !== undefined) {
        (refIds ??= new Map()).set(v, id);
        continue;
      }
    }
    if (v instanceof Map) {
      for (const [k, x] of v) stack.push(k, x);
    } else if (v instanceof Set) {
      for (const x of v) stack.push(x);
    } else if (v instanceof Error && types.isNativeError(v)) {
      hasErrors = true;
      for (const k of Object.keys(v)) stack.push((v as unknown as Record<string, unknown>)[k]);
      if (Object.hasOwn(v, 'cause')) stack.push(v.cause);
      if (Object.hasOwn(v, 'errors')) stack.push((v as AggregateError).errors);
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (!(v instanceof Date || v instanceof RegExp || types.isBoxedPrimitive(v))) {
      const keys = Object.keys(v); // class instances: v8 keeps their own enumerable fields
      for (let i = 0; i < keys.length; i++) stack.push((v as Record<string, unknown>)[keys[i]!]);
    }
  }
  return { refIds, hasErrors, arrayBuffers, json };
}

/** Built-ins v8 refuses: left in place for v8 to reject (and the failure to be diagnosed). */
function isUncloneableBuiltin(v: object): boolean {
  return (
    types.isPromise(v) ||
    types.isWeakMap(v) ||
    types.isWeakSet(v) ||
    types.isProxy(v) ||
    types.isGeneratorObject(v) ||
    types.isMapIterator(v) ||
    types.isSetIterator(v) ||
    types.isModuleNamespaceObject(v) ||
    types.isExternal(v) ||
    v instanceof WeakRef ||
    v instanceof FinalizationRegistry
  );
}

/**
 * Copies the container graph of a value that holds refs or Errors, with each ref and Error
 * replaced by a Marker; leaves (ArrayBuffers, views, Dates, …) are shared, identity and cycles
 * are kept. Class instances become plain objects, as v8 would serialize them anyway.
 */
export class Substituter {
  readonly refs: string[] = [];
  readonly errors: ErrorPayload[] = [];
  private readonly refIndex = new Map<string, number>();
  private readonly memo = new Map<object, unknown>();

  constructor(private readonly refIds: Map<object, string> | undefined) {}

  clone(v: unknown): unknown {
    if (typeof v !== 'object' || v === null) return v;
    const done = this.memo.get(v);
    if (done !== undefined) return done;
    if (ArrayBuffer.isView(v)) return v;
    const id = this.refIds?.get(v);
    if (id !== undefined) {
      let index = this.refIndex.get(id);
      if (index === undefined) {
        index = this.refs.push(id) - 1;
        this.refIndex.set(id, index);
      }
      const marker = new Marker(MODE_REF, index);
      this.memo.set(v, marker);
      return marker;
    }
    if (Array.isArray(v)) {
      const copy: unknown[] = new Array(v.length);
      this.memo.set(v, copy);
      for (const k of Object.keys(v)) define(copy, k, this.clone((v as unknown as Record<string, unknown>)[k]));
      return copy;
    }
    if (v instanceof Map) {
      const copy = new Map();
      this.memo.set(v, copy);
      for (const [k, x] of v) copy.set(this.clone(k), this.clone(x));
      return copy;
    }
    if (v instanceof Set) {
      const copy = new Set();
      this.memo.set(v, copy);
      for (const x of v) copy.add(this.clone(x));
      return copy;
    }
    if (v instanceof Error && types.isNativeError(v)) {
      const marker = new Marker((errorTypeIndex(v) << 3) | MODE_ERROR, this.errors.length);
      this.memo.set(v, marker);
      const payload: ErrorPayload = { n: undefined, m: undefined, s: undefined, p: {} };
      this.errors.push(payload);
      payload.n = v.name;
      payload.m = v.message;
      payload.s = v.stack;
      payload.p = this.cloneKeys(v as unknown as Record<string, unknown>);
      if (Object.hasOwn(v, 'cause')) payload.c = this.clone(v.cause);
      if (Object.hasOwn(v, 'errors')) payload.e = this.clone((v as AggregateError).errors);
      return marker;
    }
    if (
      v instanceof ArrayBuffer ||
      v instanceof Date ||
      v instanceof RegExp ||
      types.isBoxedPrimitive(v) ||
      types.isSharedArrayBuffer(v) ||
      isUncloneableBuiltin(v)
    ) {
      return v;
    }
    const copy: Record<string, unknown> = {};
    this.memo.set(v, copy);
    const keys = Object.keys(v);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      define(copy, k, this.clone((v as Record<string, unknown>)[k]));
    }
    return copy;
  }

  private cloneKeys(o: Record<string, unknown>): Record<string, unknown> {
    const copy: Record<string, unknown> = {};
    for (const k of Object.keys(o)) define(copy, k, this.clone(o[k]));
    return copy;
  }
}

function define(o: object, k: string, value: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value, writable: true, enumerable: true, configurable: true });
  else (o as Record<string, unknown>)[k] = value;
}

/** Rebuilds an Error shell of the recorded built-in type, without paying for a stack trace. */
export function errorShell(typeIndex: number): Error {
  const ctor = ERROR_TYPES[typeIndex] ?? Error;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return ctor === (AggregateError as unknown) ? new AggregateError([]) : new ctor();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Fills an Error shell from its payload (after the whole value is read, so cycles work). */
export function fillError(err: Error, p: ErrorPayload): void {
  const hidden = (k: string, value: unknown): void => {
    Object.defineProperty(err, k, { value, writable: true, enumerable: false, configurable: true });
  };
  // own enumerable fields first, so that their order is kept; the rest only if not among them
  const props = p.p !== null && typeof p.p === 'object' ? p.p : {};
  for (const k of Object.keys(props)) {
    Object.defineProperty(err, k, { value: props[k], writable: true, enumerable: true, configurable: true });
  }
  if (!Object.hasOwn(props, 'message') && p.m !== undefined) hidden('message', p.m);
  if (!Object.hasOwn(props, 'stack')) hidden('stack', p.s);
  if (!Object.hasOwn(props, 'name') && p.n !== Object.getPrototypeOf(err).name) hidden('name', p.n);
  if (!Object.hasOwn(props, 'cause') && 'c' in p) hidden('cause', p.c);
  if (!Object.hasOwn(props, 'errors') && 'e' in p) hidden('errors', p.e);
}
