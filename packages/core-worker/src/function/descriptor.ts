/**
 * A function or class as the head's function table stores it: workers (and a raylet starting an
 * actor for its creator) load it from these bytes.
 */
import type { RemoteSource } from './describe.js';

/** What a remote function or actor class ships as: its kind, name, source and content hash. */
export type RemoteFunctionDescriptor = RemoteSource;

/** A function's or class's entry in the head's function table (what workers load it from). */
export function functionDescriptorBytes(desc: RemoteFunctionDescriptor): Buffer {
  return Buffer.from(JSON.stringify({ kind: desc.kind, name: desc.name, source: desc.source }));
}
