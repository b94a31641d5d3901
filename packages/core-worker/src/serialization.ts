/**
 * How the core worker turns values into bytes and back. Kept in one place so the codec (out-of-band
 * binary sections, refs inside values, zero-copy reads from the object store) plugs in here.
 */
import { deserialize, serialize } from 'node:v8';
import { SerializationError } from '@rayts/common';

export function encode(value: unknown, what: string): Uint8Array {
  try {
    return serialize(value);
  } catch (err) {
    throw new SerializationError(`cannot serialize ${what}: ${describeUnserializable(value) ?? (err as Error).message}`,
      'values must be plain data: objects, arrays, strings, numbers, Map, Set, Date, typed arrays, errors');
  }
}

export function decode(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

function typeName(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (value instanceof Promise) return 'a Promise';
  if (value instanceof WeakMap || value instanceof WeakSet) return `a ${value.constructor.name}`;
  return `a ${(value as object)?.constructor?.name ?? typeof value}`;
}

/** Finds the first value v8 cannot serialize and names its type and path. */
function describeUnserializable(value: unknown, path = 'value', seen = new Set<unknown>()): string | undefined {
  if (typeof value === 'function' || typeof value === 'symbol' || value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet) {
    return `${typeName(value)} at ${path}`;
  }
  if (typeof value !== 'object' || value === null || seen.has(value) || ArrayBuffer.isView(value)) return undefined;
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const found = describeUnserializable(v, `${path}.get(${String(k)})`, seen);
      if (found) return found;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const found = describeUnserializable(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, seen);
    if (found) return found;
  }
  return undefined;
}
