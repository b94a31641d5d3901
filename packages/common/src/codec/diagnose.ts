/**
 * Turns a failed serialization into a SerializationError that names what could not be serialized
 * and where it sits in the value (`cannot serialize a function at result.handler`). Runs only
 * after v8 refused the value, so it may be slow.
 */
import { types } from 'node:util';
import { SerializationError } from '../errors.js';

interface Found {
  what: string;
  path: string;
  hint?: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function keySegment(k: string): string {
  return IDENTIFIER.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

function mapKeyLabel(k: unknown, i: number): string {
  switch (typeof k) {
    case 'string':
      return JSON.stringify(k);
    case 'number':
    case 'boolean':
      return String(k);
    case 'bigint':
      return `${k}n`;
    case 'undefined':
      return 'undefined';
    default:
      return k === null ? 'null' : `<key #${i}>`;
  }
}

function className(v: object): string {
  try {
    const ctor = (v as { constructor?: { name?: unknown } }).constructor;
    if (typeof ctor?.name === 'string' && ctor.name !== '') return ctor.name;
  } catch {
    // a Proxy or a throwing getter: fall through
  }
  return Object.prototype.toString.call(v).slice(8, -1);
}

/** Names a value v8 cannot serialize (with an article), or undefined when it is fine by itself. */
function describe(v: unknown, badHost: object | undefined): { what: string; hint?: string } | undefined {
  if (typeof v === 'function') {
    const isClass = /^class[\s{]/.test(Function.prototype.toString.call(v));
    return {
      what: isClass ? 'a class' : 'a function',
      hint: 'values are copied between processes as data; pass a remote function or its result instead',
    };
  }
  if (typeof v === 'symbol') return { what: 'a symbol', hint: 'a symbol is unique to one process' };
  if (typeof v !== 'object' || v === null) return undefined;
  if (types.isProxy(v)) return { what: 'a Proxy' };
  if (types.isPromise(v)) return { what: 'a Promise', hint: 'await it and pass the result' };
  if (types.isWeakMap(v)) return { what: 'a WeakMap' };
  if (types.isWeakSet(v)) return { what: 'a WeakSet' };
  if (v instanceof WeakRef) return { what: 'a WeakRef' };
  if (v instanceof FinalizationRegistry) return { what: 'a FinalizationRegistry' };
  if (types.isGeneratorObject(v)) return { what: 'a generator' };
  if (types.isMapIterator(v) || types.isSetIterator(v) || /Iterator\]$/.test(Object.prototype.toString.call(v))) {
    return { what: 'an iterator', hint: 'spread it into an array first' };
  }
  if (types.isSharedArrayBuffer(v)) return { what: 'a SharedArrayBuffer', hint: 'copy it into an ArrayBuffer' };
  if (types.isModuleNamespaceObject(v)) return { what: 'a module namespace object' };
  if (types.isExternal(v)) return { what: 'an external pointer' };
  if (types.isSymbolObject(v)) return { what: 'a symbol', hint: 'a symbol is unique to one process' };
  if (v === badHost) return { what: `a native ${className(v)} object` };
  return undefined;
}

/** The children of a value in the order the encoder writes them, with their path segments. */
function* children(
  v: object,
  isRef: ((value: object) => string | undefined) | undefined,
): Generator<[string, unknown]> {
  if (ArrayBuffer.isView(v) || types.isAnyArrayBuffer(v)) return;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null && proto !== Array.prototype && isRef?.(v) !== undefined) return;
  if (v instanceof Date || v instanceof RegExp || types.isBoxedPrimitive(v)) return;
  if (types.isMap(v)) {
    let i = 0;
    for (const [k, x] of v as Map<unknown, unknown>) {
      yield [`<key #${i}>`, k];
      yield [`.get(${mapKeyLabel(k, i)})`, x];
      i++;
    }
    return;
  }
  if (types.isSet(v)) {
    let i = 0;
    for (const x of v as Set<unknown>) yield [`<item #${i++}>`, x];
    return;
  }
  const isArray = Array.isArray(v);
  for (const k of Object.keys(v)) {
    const seg = isArray && /^(0|[1-9]\d*)$/.test(k) ? `[${k}]` : keySegment(k);
    yield [seg, (v as Record<string, unknown>)[k]];
  }
  if (types.isNativeError(v)) {
    if (Object.hasOwn(v, 'cause')) yield ['.cause', (v as Error).cause];
    if (Object.hasOwn(v, 'errors')) yield ['.errors', (v as AggregateError).errors];
  }
}

/** Depth-first search, in encoder order, for the first value `describe` recognizes. */
function findKnown(
  root: unknown,
  rootPath: string,
  isRef: ((value: object) => string | undefined) | undefined,
  badHost: object | undefined,
): Found | undefined {
  const seen = new Set<object>();
  const visit = (v: unknown, path: string): Found | undefined => {
    const d = describe(v, badHost);
    if (d !== undefined) return { ...d, path };
    if (typeof v !== 'object' || v === null || seen.has(v)) return undefined;
    seen.add(v);
    for (const [seg, child] of children(v, isRef)) {
      const found = visit(child, path + seg);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(root, rootPath);
}

/** Fallback: narrows the failure down by encoding children one at a time. */
function bisect(
  root: unknown,
  rootPath: string,
  isRef: ((value: object) => string | undefined) | undefined,
  fails: (v: unknown) => boolean,
): Found | undefined {
  const seen = new Set<object>();
  let v = root;
  let path = rootPath;
  for (;;) {
    if (typeof v !== 'object' || v === null) return undefined;
    seen.add(v);
    let next: [string, unknown] | undefined;
    for (const [seg, child] of children(v, isRef)) {
      if (typeof child === 'object' && child !== null && seen.has(child)) continue;
      if (fails(child)) {
        next = [seg, child];
        break;
      }
    }
    if (next === undefined) return { what: `a ${className(v)} object`, path };
    path += next[0];
    v = next[1];
  }
}

export function serializationFailure(
  value: unknown,
  rootPath: string,
  isRef: ((value: object) => string | undefined) | undefined,
  badHost: object | undefined,
  cause: unknown,
  fails: (v: unknown) => boolean,
): SerializationError {
  let found: Found | undefined;
  try {
    found = findKnown(value, rootPath, isRef, badHost) ?? bisect(value, rootPath, isRef, fails);
  } catch {
    found = undefined; // a getter or Proxy trap threw while looking: report v8's message
  }
  const err =
    found !== undefined
      ? new SerializationError(`cannot serialize ${found.what} at ${found.path}`, found.hint)
      : new SerializationError(`cannot serialize ${rootPath}: ${(cause as Error)?.message ?? String(cause)}`);
  Object.defineProperty(err, 'cause', { value: cause, writable: true, configurable: true });
  return err;
}
