/**
 * Request validation for every gRPC service: small schemas (a subset of zod's shape: `parse` returns
 * the value or throws) built from reusable checks — ids of exact length in hex, finite numbers with
 * caps, resource maps, strings and bytes with a maximum length, repeated fields with a maximum count.
 * A failed check throws RpcError INVALID_ARGUMENT naming the field (`spec.resources.CPU`) and the
 * rule it broke. `withRequestSchemas` puts one table of schemas in front of a service's handlers,
 * and refuses to build a service that has a method without one.
 *
 * The schemas only check: handlers keep reading the request as grpc-js decoded it. Swapping in zod
 * later means writing the same tables with `z.object(...)` and mapping a ZodError to the same status.
 */
import * as grpc from '@grpc/grpc-js';
import { RpcError } from '../errors.js';
import { RESOURCE_NAME } from '../resources.js';

export interface Schema<T = unknown> {
  /** The value when it passes, else throws RpcError INVALID_ARGUMENT naming `path` and the rule. */
  parse(value: unknown, path?: string): T;
}

export class RequestValidationError extends RpcError {
  constructor(readonly field: string, readonly rule: string, got: string) {
    super(grpc.status.INVALID_ARGUMENT, `${field || 'request'} ${rule}${got ? `, got ${got}` : ''}`);
  }
}

/** A short, printable form of a refused value (never the whole of an oversized one). */
export function preview(value: unknown): string {
  if (typeof value === 'string') return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}… (${value.length} characters)` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  if (Array.isArray(value)) return `${value.length} items`;
  if (value === null || value === undefined) return 'nothing';
  return typeof value;
}

function fail(path: string, rule: string, value?: unknown): never {
  throw new RequestValidationError(path, rule, value === undefined ? '' : preview(value));
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function schema<T>(parse: (value: unknown, path: string) => T): Schema<T> {
  return { parse: (value, path = '') => parse(value, path) };
}

export interface StringRule {
  /** Longest accepted length (characters). */
  max: number;
  /** Shortest accepted length; 0 (default) allows empty. */
  min?: number;
  /** What the whole string must match, with a human description of it. */
  pattern?: RegExp;
  describe?: string;
}

export function str(rule: StringRule): Schema<string> {
  const min = rule.min ?? 0;
  return schema((v, path) => {
    if (typeof v !== 'string') fail(path, 'must be a string', v);
    if (v.length < min) fail(path, min === 1 ? 'is required' : `must be at least ${min} characters`, v);
    if (v.length > rule.max) fail(path, `must be at most ${rule.max} characters`, v);
    if (rule.pattern && !(v === '' && min === 0) && !rule.pattern.test(v)) fail(path, `must be ${rule.describe ?? `like ${rule.pattern.source}`}`, v);
    return v;
  });
}

/** An id of exactly `bytes` bytes as lowercase hex; `optional` also accepts '' (none). */
export function hexId(bytes: number, options: { optional?: boolean } = {}): Schema<string> {
  return schema((v, path) => {
    if (typeof v !== 'string') fail(path, 'must be a string', v);
    if (options.optional && v === '') return v;
    if (v.length !== bytes * 2 || !/^[0-9a-f]+$/.test(v)) {
      fail(path, `must be ${options.optional ? 'empty or ' : ''}${bytes * 2} lowercase hex characters`, v);
    }
    return v;
  });
}

export interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
}

/** A finite number in [min, max] (NaN and ±Infinity are refused). */
export function num(rule: NumberRule): Schema<number> {
  return schema((v, path) => {
    if (typeof v !== 'number') fail(path, 'must be a number', v);
    if (!Number.isFinite(v)) fail(path, 'must be a finite number', v);
    if (rule.integer && !Number.isInteger(v)) fail(path, 'must be a whole number', v);
    if (v < rule.min || v > rule.max) fail(path, `must be ${rule.min} to ${rule.max}`, v);
    return v;
  });
}

/** Common numeric fields: proto uint32/int32 and the safe range of longs decoded as numbers. */
export const uint32 = num({ min: 0, max: 0xffffffff, integer: true });
export const int32 = num({ min: -0x80000000, max: 0x7fffffff, integer: true });
export const uint64 = num({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
export const int64 = num({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true });
export const port = num({ min: 0, max: 65535, integer: true });
/** Milliseconds since the epoch (0 = unknown), up to JavaScript's last date. */
export const epochMs = num({ min: 0, max: 8.64e15, integer: true });

export function bool(): Schema<boolean> {
  return schema((v, path) => (typeof v === 'boolean' ? v : fail(path, 'must be true or false', v)));
}

export function bytes(rule: { max: number }): Schema<Buffer> {
  return schema((v, path) => {
    if (!Buffer.isBuffer(v) && !(v instanceof Uint8Array)) fail(path, 'must be bytes', v);
    if (v.length > rule.max) fail(path, `must be at most ${rule.max} bytes`, v);
    return v as Buffer;
  });
}

/** One of a fixed set of values (enum names, string kinds). */
export function oneOf<T extends string>(values: readonly T[]): Schema<T> {
  const set = new Set<unknown>(values);
  return schema((v, path) => (set.has(v) ? v as T : fail(path, `must be one of ${values.join(', ')}`, v)));
}

/** A repeated field of at most `max` items, each checked by `item`. */
export function list<T>(item: Schema<T>, rule: { max: number }): Schema<T[]> {
  return schema((v, path) => {
    if (!Array.isArray(v)) fail(path, 'must be a list', v);
    if (v.length > rule.max) fail(path, `must have at most ${rule.max} items`, v);
    v.forEach((x, i) => item.parse(x, `${path}[${i}]`));
    return v as T[];
  });
}

/** A proto map of at most `max` entries, keys and values each checked. */
export function map<T>(key: Schema<string>, value: Schema<T>, rule: { max: number }): Schema<Record<string, T>> {
  return schema((v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be a map', v);
    const entries = Object.entries(v);
    if (entries.length > rule.max) fail(path, `must have at most ${rule.max} entries`, entries);
    for (const [k, x] of entries) {
      key.parse(k, `${path} key`);
      value.parse(x, join(path, k.slice(0, 60)));
    }
    return v as Record<string, T>;
  });
}

/** The most of any one resource a message may carry (far above any node's; keeps sums finite and exact enough). */
export const MAX_RESOURCE_AMOUNT = 1e15;
export const MAX_RESOURCE_ENTRIES = 256;
/**
 * A node's whole map (its registration and resource reports): its own resources and, for each
 * placement-group bundle it holds, four more per resource of the bundle (`CPU_group_0_<id>`,
 * `CPU_group_<id>`, `bundle_group_0_<id>`, `bundle_group_<id>`). 256 refused a node holding 64
 * one-resource groups, and the refused raylet exited. 65,536 entries are ~6 MB in a report.
 */
export const MAX_NODE_RESOURCE_ENTRIES = 65_536;

/** A resource map: at most 256 names by the resource-name rule, amounts finite and in [0, 1e15]. */
export function resources(rule: { maxEntries?: number } = {}): Schema<Record<string, number>> {
  return map(str({ min: 1, max: 256, pattern: RESOURCE_NAME, describe: 'a resource name (a letter or _, then letters, digits, _ . : - /)' }),
    num({ min: 0, max: MAX_RESOURCE_AMOUNT }), { max: rule.maxEntries ?? MAX_RESOURCE_ENTRIES });
}

/** Why `value` fails `check` (the INVALID_ARGUMENT message), or undefined when it passes: for channels that answer without gRPC. */
export function problemOf(check: Schema, value: unknown, path?: string): string | undefined {
  try {
    check.parse(value, path);
    return undefined;
  } catch (err) {
    if (err instanceof RequestValidationError) return err.message;
    throw err;
  }
}

type Shape = Record<string, Schema>;
type Parsed<S extends Shape> = { [K in keyof S]: S[K] extends Schema<infer T> ? T : never };

/**
 * A message: each listed field is checked (fields the shape does not list are left as decoded, so a
 * shape lists what its handler reads). `null`/absent is refused; wrap in `optional` for message fields.
 */
export function obj<S extends Shape>(shape: S): Schema<Parsed<S>> {
  // Field names in their proto form once, not per message (validation runs on every task's messages).
  const fields = Object.entries(shape).map(([key, field]) => ({ key, name: snake(key), field }));
  return schema((v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'is required', v);
    for (const f of fields) f.field.parse((v as Record<string, unknown>)[f.key], path ? `${path}.${f.name}` : f.name);
    return v as Parsed<S>;
  });
}

/** A message field that may be absent (grpc-js decodes an absent message as null). */
export function optional<T>(inner: Schema<T>): Schema<T | null | undefined> {
  return schema((v, path) => (v === null || v === undefined ? v : inner.parse(v, path)));
}

/** Accepts anything: for fields whose content a handler checks itself (named at the use). */
export const unchecked: Schema<unknown> = schema((v) => v);

/** The proto name of a decoded field (grpc-js camel-cases them): errors name fields as the .proto does. */
function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The request of a client-streaming method is checked by its handler, chunk by chunk (named here so the table stays complete). */
export interface CheckedPerMessage { readonly checkedPerMessage: true }
export const CHECKED_PER_MESSAGE: CheckedPerMessage = Object.freeze({ checkedPerMessage: true });

/**
 * The service's handlers, each behind its request's schema: a request that fails it is answered
 * INVALID_ARGUMENT before the handler sees it. Throws at start when a method of `service` has no schema
 * (a method added to the .proto without validation cannot be served).
 */
export function withRequestSchemas<I extends grpc.UntypedServiceImplementation>(
  service: grpc.ServiceDefinition, schemas: Record<string, Schema | CheckedPerMessage>, implementation: I,
): I {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(service)) {
    if (!/^[A-Z]/.test(method)) continue; // grpc-js also lists each method under its camel-case name
    const check = schemas[method];
    const handler = implementation[method];
    if (!check) throw new Error(`gRPC method ${def.path} has no request schema: add one to its service's table`);
    if (!handler) throw new Error(`gRPC method ${def.path} has no handler`);
    if (check === CHECKED_PER_MESSAGE) {
      if (!def.requestStream) throw new Error(`gRPC method ${def.path} takes one request: give it a schema`);
      out[method] = handler;
      continue;
    }
    if (def.requestStream) throw new Error(`gRPC method ${def.path} streams its requests: mark it CHECKED_PER_MESSAGE and check each in its handler`);
    out[method] = guard(check as Schema, handler as (call: { request: unknown }, callback?: grpc.sendUnaryData<unknown>) => void, def.responseStream);
  }
  return out as I;
}

function guard(check: Schema, handler: (call: { request: unknown }, callback?: grpc.sendUnaryData<unknown>) => void, responseStream: boolean) {
  return (call: { request: unknown; emit?: (event: string, value: unknown) => void }, callback?: grpc.sendUnaryData<unknown>) => {
    try {
      check.parse(call.request);
    } catch (err) {
      const status = err instanceof RpcError ? { code: err.code, details: err.message } : { code: grpc.status.INVALID_ARGUMENT, details: 'the request is malformed' };
      if (responseStream) call.emit!('error', status);
      else callback!(status);
      return;
    }
    handler(call, callback);
  };
}
