/** Stores functions and classes in the head's function table, once per process and hash. */
import { FUNCTION_NAMESPACE } from '@rayts/common';
import { functionDescriptorBytes, type RemoteFunctionDescriptor } from './function/descriptor.js';

export interface FunctionTable {
  kvPut(namespace: string, key: string, value: Buffer, overwrite: boolean): Promise<unknown>;
}

export class FunctionExporter {
  private readonly exports = new Map<string, Promise<void>>();
  /** Hashes whose export finished: tasks of these functions can be sent without waiting. */
  private readonly settled = new Set<string>();

  constructor(private readonly table: FunctionTable) {}

  exportFunction(desc: RemoteFunctionDescriptor): Promise<void> {
    let done = this.exports.get(desc.hash);
    if (!done) {
      done = this.table.kvPut(FUNCTION_NAMESPACE, desc.hash, functionDescriptorBytes(desc), false).then(() => {
        this.settled.add(desc.hash);
      });
      this.exports.set(desc.hash, done);
      done.catch(() => this.exports.delete(desc.hash));
    }
    return done;
  }

  isExported(hash: string): boolean {
    return this.settled.has(hash);
  }
}
