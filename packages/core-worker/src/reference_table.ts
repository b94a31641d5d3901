/**
 * The references this process holds, and when what it owns is released (Ray's reference counting,
 * the owner's part). It also classifies them for `rayts memory` as Ray's `ray memory` does: values
 * read from the store and still alive (pinned), refs passed to tasks in flight, refs captured inside
 * stored objects, and where each ref was made (when recorded).
 *
 * An object this process owns (a put, a task's or an actor call's result) is in use while any of
 * these holds:
 * - an ObjectRef for it is alive here (each one made here, by submission, put or decoding, is
 *   counted; the count goes down when the garbage collector takes the ref, through a
 *   FinalizationRegistry);
 * - a task in flight takes it as an argument;
 * - a value read from it in place is alive here (the store keeps it pinned);
 * - a task kept as lineage took it as an argument (its output may need rebuilding from it);
 * - it left this process inside a value (nested in an argument, a put or a return value). Such a ref
 *   may be held by borrowers this process does not hear from, so the object is kept until
 *   `ray.free` or the owner exits, where Ray would count the borrowers.
 * When none holds any more, the object is released once it settled (ObjectReleaser: its entry, its
 * store copies, its lineage). A task whose result nobody holds still runs; its result is released
 * when it arrives.
 */
import { CallSiteRecorder } from './call_site.js';
import type { MemoryStore } from './memory_store.js';
import type { ObjectRef } from './object_ref.js';
import { objectIdOfWire } from './serialization.js';
import type { Address, RefInfo } from './protocol/messages.js';

/** How an object that is no longer in use is let go (ObjectReleaser). */
export interface Releaser {
  /** Releases it: its entry, its copies, its lineage; `unhold` gets the refs whose lineage hold ends. */
  release(objectId: string, unhold: (argRefs: readonly string[]) => void): boolean;
}

export class ReferenceTable {
  /** Live ObjectRefs of owned objects, per object. */
  private readonly handles = new Map<string, number>();
  private readonly collected = new FinalizationRegistry<string>((id) => {
    if (countDown(this.handles, id)) this.maybeRelease(id);
  });
  /** Live values read from the store, per object (the object stays pinned while any is alive). */
  private readonly pinnedValues = new Map<string, number>();
  /** Refs passed as arguments to tasks still in flight, per object. */
  private readonly pendingArgs = new Map<string, number>();
  /** Refs passed as arguments to tasks kept as lineage, per object. */
  private readonly lineageHolds = new Map<string, number>();
  /** Refs inside values this process stored or sent. */
  private readonly captured = new Set<string>();
  /** Objects no longer in use whose task has not settled yet: released when it does. */
  private readonly releaseWhenSettled = new Set<string>();
  /** Ends lineage holds (given to the releaser, which calls it when it drops a kept task). */
  private readonly unhold = (ids: readonly string[]) => this.releaseLineageHolds(ids);

  /** @param self this process (the owner of what it makes) */
  constructor(
    private readonly store: Pick<MemoryStore, 'get' | 'ids' | 'onSettled'>,
    private readonly callSites: CallSiteRecorder,
    private readonly self: Address,
    private readonly releaser: Releaser,
  ) {}

  /** A ref to an object this process owns was made here (by put or a submission): counted, and its call site recorded. */
  created<T extends ObjectRef>(ref: T): T {
    this.callSites.record(ref.id);
    return this.counted(ref);
  }

  /** A ref was decoded here: counted when this process owns its object. */
  decoded<T extends ObjectRef>(ref: T): T {
    return ref.owner.clientId === this.self.clientId && ref.owner.nodeId === this.self.nodeId ? this.counted(ref) : ref;
  }

  /** The object was freed (`ray.free`): it is released now, whatever holds it, and forgotten. */
  free(objectId: string): boolean {
    this.callSites.forget(objectId);
    this.releaseWhenSettled.delete(objectId);
    return this.releaser.release(objectId, this.unhold);
  }

  pinValue(objectId: string): void {
    this.pinnedValues.set(objectId, (this.pinnedValues.get(objectId) ?? 0) + 1);
  }

  /** One value of the object was collected; true when it was the last one. */
  unpinValue(objectId: string): boolean {
    const last = countDown(this.pinnedValues, objectId);
    if (last) this.maybeRelease(objectId);
    return last;
  }

  addPendingArgs(objectIds: readonly string[]): void {
    for (const id of objectIds) this.pendingArgs.set(id, (this.pendingArgs.get(id) ?? 0) + 1);
  }

  releasePendingArgs(objectIds: readonly string[]): void {
    for (const id of objectIds) if (countDown(this.pendingArgs, id)) this.maybeRelease(id);
  }

  /** A task kept as lineage took these refs: they stay while it is kept. */
  holdForLineage(objectIds: readonly string[]): void {
    for (const id of objectIds) this.lineageHolds.set(id, (this.lineageHolds.get(id) ?? 0) + 1);
  }

  /** Tasks kept as lineage that took these refs are gone: each ref whose last hold ends may be released. */
  releaseLineageHolds(objectIds: readonly string[]): void {
    for (const id of objectIds) if (countDown(this.lineageHolds, id)) this.maybeRelease(id);
  }

  /** Refs (their wire ids) went into a value this process stored or sent. */
  captureRefs(wireIds: readonly string[]): void {
    for (const wire of wireIds) {
      const id = objectIdOfWire(wire);
      if (id !== undefined) this.captured.add(id);
    }
  }

  /** An object whose ref was handed where this process cannot count it (an actor's constructor, kept for restarts). */
  capture(objectId: string): void {
    this.captured.add(objectId);
  }

  /** Every ref of the memory store, classified; `attemptOf` gives the attempt of the task that makes it. */
  refsInfo(attemptOf: (objectId: string) => number): RefInfo[] {
    const out: RefInfo[] = [];
    for (const id of this.store.ids()) {
      const state = this.store.get(id)!;
      const size = state.status === 'ready' ? (state.value.kind === 'inline' ? state.value.data.length : state.value.size) : -1;
      const referenceType: RefInfo['referenceType'] = this.pinnedValues.has(id) ? 'PINNED_IN_MEMORY'
        : this.pendingArgs.has(id) ? 'USED_BY_PENDING_TASK'
          : this.captured.has(id) ? 'CAPTURED_IN_OBJECT' : 'LOCAL_REFERENCE';
      out.push({
        objectId: id, size, referenceType, attempt: attemptOf(id), callSite: this.callSites.of(id),
        status: state.status === 'pending' ? 'PENDING' : state.status === 'failed' ? 'FAILED' : 'FINISHED',
      });
    }
    return out;
  }

  private counted<T extends ObjectRef>(ref: T): T {
    this.handles.set(ref.id, (this.handles.get(ref.id) ?? 0) + 1);
    this.collected.register(ref, ref.id);
    return ref;
  }

  private inUse(id: string): boolean {
    return this.handles.has(id) || this.pendingArgs.has(id) || this.pinnedValues.has(id) || this.lineageHolds.has(id) || this.captured.has(id);
  }

  /** Releases the object if nothing holds it (once its task settled). */
  private maybeRelease(id: string): void {
    if (this.inUse(id)) return;
    const state = this.store.get(id);
    if (!state) return;
    if (state.status === 'pending') {
      if (this.releaseWhenSettled.has(id)) return;
      this.releaseWhenSettled.add(id);
      this.store.onSettled(id, () => {
        this.releaseWhenSettled.delete(id);
        this.maybeRelease(id);
      });
      return;
    }
    this.callSites.forget(id);
    this.releaser.release(id, this.unhold);
  }
}

/** Counts one down; true when it reached 0 (the key is gone). */
function countDown(map: Map<string, number>, id: string): boolean {
  const n = (map.get(id) ?? 0) - 1;
  if (n > 0) {
    map.set(id, n);
    return false;
  }
  map.delete(id);
  return true;
}
