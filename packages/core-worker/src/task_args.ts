/**
 * Arguments of a task (or an actor call or constructor) as they travel: plain values encoded inline
 * when small, larger ones written to this node's store, and top-level ObjectRefs resolved to their
 * value or location once their task finished (the task then reads them in place on its node).
 */
import { DependencyFailedError } from './errors.js';
import { newPutId } from './ids.js';
import { ObjectRef } from './object_ref.js';
import { encodeForStore, sizeOf, toInline } from './serialization.js';
import type { MemoryStore } from './memory_store.js';
import type { PlasmaClient } from './plasma_client.js';
import type { TaskArg } from './protocol/messages.js';

export interface TaskArgsDeps {
  store: Pick<MemoryStore, 'whenSettled' | 'get'>;
  plasma: Pick<PlasmaClient, 'storeValue' | 'maxInlineBytes'>;
  /** Refs nested in an argument leave this process: their objects are kept (see ReferenceTable). */
  references: { captureRefs(wireIds: readonly string[]): void };
}

/** How arguments are made ready to travel (what the task and actor submitters use). */
export interface ArgResolver {
  inlineArgs(args: unknown[], name: string): TaskArg[] | undefined;
  resolveArg(arg: unknown, index: number, taskName: string): Promise<TaskArg>;
}

export class TaskArgs implements ArgResolver {
  constructor(private readonly deps: TaskArgsDeps) {}

  /**
   * The arguments encoded to travel inside the task message, when every one is a plain value small
   * enough; undefined when one is a ref or too large (the caller resolves them asynchronously).
   * Throws SerializationError for a value that cannot be encoded.
   */
  inlineArgs(args: unknown[], name: string): TaskArg[] | undefined {
    const out: TaskArg[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] instanceof ObjectRef) return undefined;
      const e = encodeForStore(args[i], `argument ${i} of ${name}`);
      this.deps.references.captureRefs(e.refs);
      const size = sizeOf(e);
      if (size > this.deps.plasma.maxInlineBytes) return undefined;
      out.push({ kind: 'value', data: toInline(e, size) });
    }
    return out;
  }

  /**
   * One argument ready to travel: a value stored (inline or in this node's store), or a ref's value
   * or location once its task finished. A ref whose task failed throws DependencyFailedError.
   */
  async resolveArg(arg: unknown, index: number, taskName: string): Promise<TaskArg> {
    if (!(arg instanceof ObjectRef)) {
      const stored = await this.deps.plasma.storeValue(newPutId(), arg, `argument ${index} of ${taskName}`);
      return stored.kind === 'inline' ? { kind: 'value', data: stored.data } : { kind: 'plasma', objectId: stored.objectId, nodeId: stored.nodeId, size: stored.size };
    }
    await this.deps.store.whenSettled(arg.id);
    const state = this.deps.store.get(arg.id);
    if (!state) throw new Error(`argument ${index} of ${taskName} is a ref this process does not know`);
    if (state.status === 'failed') throw new DependencyFailedError('dependency failed', state.failure);
    if (state.status === 'ready' && state.value.kind === 'inline') return { kind: 'value', data: state.value.data };
    if (state.status === 'ready' && state.value.kind === 'plasma') return { kind: 'plasma', objectId: arg.id, nodeId: state.value.nodeId, size: state.value.size };
    throw new Error('unreachable');
  }
}
