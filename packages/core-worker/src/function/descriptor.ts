/**
 * A function or class as the function table holds it: what a worker compiles, keyed by the content
 * hash of its source. Drivers describe it (describe.ts); workers load it back (task_executor.ts).
 */

export type RemoteKind = 'function' | 'class';

/** A function or class as shipped: an expression that evaluates to it, and its content hash. */
export interface RemoteFunctionDescriptor {
  kind: RemoteKind;
  /** `target.name`, or 'anonymous'. Informational: it is not part of the hash. */
  name: string;
  /** A JavaScript expression (strict mode) whose value is the function or class. */
  source: string;
  /** sha256 hex of `kind + '\n' + source` (see `hashRemoteSource`). */
  hash: string;
}

/** A function's or class's entry in the head's function table (the hash is its key, not part of it). */
export function functionDescriptorBytes(desc: RemoteFunctionDescriptor): Buffer {
  return Buffer.from(JSON.stringify({ kind: desc.kind, name: desc.name, source: desc.source }));
}

/** The descriptor back from a function-table entry and its key. */
export function parseFunctionDescriptor(entry: Uint8Array, hash: string): RemoteFunctionDescriptor {
  const text = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength).toString('utf8');
  const { kind, name, source } = JSON.parse(text) as Omit<RemoteFunctionDescriptor, 'hash'>;
  return { kind, name, source, hash };
}
