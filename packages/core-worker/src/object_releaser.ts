/**
 * Letting go of an object this process owns (what the ReferenceTable decides, and what `ray.free`
 * asks): its memory store entry goes, its copies in the object stores are deleted (primary, secondary
 * and spilled), and the lineage kept for it goes with the argument values stored for that task.
 * Deletes are sent in batches, one message per turn of the event loop, and not awaited: a delete that
 * fails (the raylet is going away with this process) leaves nothing the node's end does not clear.
 *
 * After many releases (TRIM_AFTER_RELEASES, then a second without one) the allocator is asked to give
 * its free memory back (`trim`, glibc's malloc_trim): the small buffers of a million results are
 * freed, but the allocator keeps their pages, so a driver that ran a million tasks stayed at 4-6× its
 * starting RSS after dropping every ref. The trim took 15-70 ms there.
 */
import { argCopiesOf, type Lineage, type LineageRecord, type StoredObject } from './lineage.js';
import type { MemoryStore } from './memory_store.js';
import type { RayletTransport } from './raylet_connection.js';
import type { Reply } from './protocol/messages.js';

/** Releases after which the allocator is trimmed (once they stop for TRIM_QUIET_MS). */
export const TRIM_AFTER_RELEASES = 10_000;
const TRIM_QUIET_MS = 1000;

export interface ObjectReleaserDeps {
  store: Pick<MemoryStore, 'get' | 'delete'>;
  /** Gives the allocator's free memory back to the system (the object store's native addon); absent where it is not loaded. */
  allocator?: { trim(): boolean };
  lineage: Lineage<LineageRecord & { heldByLineage?: boolean }>;
  transport: Pick<RayletTransport, 'request'>;
}

export class ObjectReleaser {
  private batch: StoredObject[] = [];
  private releasedSinceTrim = 0;
  private trimTimer?: NodeJS.Timeout;

  constructor(private readonly deps: ObjectReleaserDeps) {}

  /**
   * Releases `objectId`: true when it was here. `unhold` gets the refs whose lineage hold ends with
   * it (the arguments of the task kept to rebuild it).
   */
  release(objectId: string, unhold: (argRefs: readonly string[]) => void): boolean {
    const { store, lineage } = this.deps;
    const state = store.get(objectId);
    if (!state) return false;
    store.delete(objectId);
    this.countForTrim();
    if (state.status === 'ready' && state.value.kind === 'plasma') this.delete([{ objectId, nodeId: state.value.nodeId }]);
    const record = lineage.take(objectId);
    if (record) this.dropTask(record, unhold);
    return true;
  }

  /** A task that is not kept (or no longer): the argument values stored for it, and its lineage holds. */
  dropTask(record: LineageRecord & { heldByLineage?: boolean }, unhold: (argRefs: readonly string[]) => void): void {
    this.delete(argCopiesOf(record));
    if (record.heldByLineage) {
      record.heldByLineage = false;
      unhold(record.argRefs);
    }
  }

  /** One more release: past TRIM_AFTER_RELEASES, the allocator is trimmed once releases pause. */
  private countForTrim(): void {
    const { allocator } = this.deps;
    if (!allocator || ++this.releasedSinceTrim < TRIM_AFTER_RELEASES) return;
    this.trimTimer?.refresh();
    if (this.trimTimer) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = undefined;
      this.releasedSinceTrim = 0;
      allocator.trim();
    }, TRIM_QUIET_MS);
    this.trimTimer.unref();
  }

  /** Deletes store objects (in the next batch). */
  delete(objects: readonly StoredObject[]): void {
    if (objects.length === 0) return;
    if (this.batch.length === 0) setImmediate(() => this.flush());
    for (const o of objects) this.batch.push(o);
  }

  /** Sends the batch now; the raylet's reply (undefined when there was nothing to send or no raylet to send it to). */
  flush(): Promise<Reply | undefined> {
    const objects = this.batch;
    if (objects.length === 0) return Promise.resolve(undefined);
    this.batch = [];
    try {
      return this.deps.transport.request({ type: 'objDelete', objects }).catch(() => undefined);
    } catch {
      return Promise.resolve(undefined); // the connection is closed: the process is going away
    }
  }
}
