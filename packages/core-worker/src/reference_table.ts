/**
 * What `rayts memory` shows of a process's object references, classified as Ray's `ray memory`
 * does: values read from the store and still alive (pinned), refs passed to tasks in flight, refs
 * captured inside stored objects, and where each ref was made (when recorded).
 */
import { CallSiteRecorder } from './call_site.js';
import type { MemoryStore } from './memory_store.js';
import type { RefInfo } from './protocol/messages.js';

export class ReferenceTable {
  /** Live values read from the store, per object (the object stays pinned while any is alive). */
  private readonly pinnedValues = new Map<string, number>();
  /** Refs passed as arguments to tasks still in flight, per object. */
  private readonly pendingArgs = new Map<string, number>();
  /** Refs inside values this process stored. */
  private readonly captured = new Set<string>();

  constructor(private readonly store: MemoryStore, private readonly callSites: CallSiteRecorder) {}

  /** A ref was made here (by put or a submission). */
  created(objectId: string): void {
    this.callSites.record(objectId);
  }

  /** The ref was freed: its call site goes. */
  forget(objectId: string): void {
    this.callSites.forget(objectId);
  }

  pinValue(objectId: string): void {
    this.pinnedValues.set(objectId, (this.pinnedValues.get(objectId) ?? 0) + 1);
  }

  /** One value of the object was collected; true when it was the last one. */
  unpinValue(objectId: string): boolean {
    countDown(this.pinnedValues, objectId);
    return !this.pinnedValues.has(objectId);
  }

  addPendingArgs(objectIds: readonly string[]): void {
    for (const id of objectIds) this.pendingArgs.set(id, (this.pendingArgs.get(id) ?? 0) + 1);
  }

  releasePendingArgs(objectIds: readonly string[]): void {
    for (const id of objectIds) countDown(this.pendingArgs, id);
  }

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
}

function countDown(map: Map<string, number>, id: string): void {
  const n = (map.get(id) ?? 0) - 1;
  if (n > 0) map.set(id, n);
  else map.delete(id);
}
