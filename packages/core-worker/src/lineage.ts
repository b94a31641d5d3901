/**
 * The lineage an owner keeps (Ray's lineage pinning): for each output of a finished task that lives
 * in an object store and is still referenced, the task's record, so that a lost copy can be rebuilt
 * by running the task again. While an output is kept, so are the task's arguments: the refs it took
 * (held in the ReferenceTable) and the values that were stored for it (`argCopies`). When the output
 * is released, its entry goes, and with it those holds.
 */
import type { TaskSpec } from './protocol/messages.js';

/** What lineage needs of a task's record. */
export interface LineageRecord {
  spec: TaskSpec;
  /** Refs passed as arguments. */
  argRefs: string[];
}

/** An object of a node's store, by id and node. */
export interface StoredObject {
  objectId: string;
  nodeId: string;
}

/** Argument values stored for the task (large plain values): the spec's store arguments that are not refs. */
export function argCopiesOf(record: LineageRecord): StoredObject[] {
  const out: StoredObject[] = [];
  let refs: ReadonlySet<string> | undefined;
  for (const a of record.spec.args) {
    if (a.kind !== 'plasma') continue;
    refs ??= new Set(record.argRefs);
    if (!refs.has(a.objectId)) out.push({ objectId: a.objectId, nodeId: a.nodeId });
  }
  return out;
}

export class Lineage<R extends LineageRecord> {
  private readonly kept = new Map<string, R>();

  /** The task that made `outputId` finished and its output is stored: keep the task. */
  keep(outputId: string, record: R): void {
    this.kept.set(outputId, record);
  }

  get(outputId: string): R | undefined {
    return this.kept.get(outputId);
  }

  /** The task is running again (its output is being rebuilt): no longer kept as finished. */
  take(outputId: string): R | undefined {
    const record = this.kept.get(outputId);
    this.kept.delete(outputId);
    return record;
  }

  get size(): number {
    return this.kept.size;
  }
}
