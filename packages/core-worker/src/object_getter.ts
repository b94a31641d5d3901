/**
 * `get`, `wait` and `free` of a process's refs. A ref this process owns is read from its memory
 * store; one it does not own (it arrived inside a value) is borrowed: its owner is asked, through the
 * raylets, for the value or its location. A stored value whose copy was lost is rebuilt by
 * re-running its task (lineage). A worker waiting here gives its CPU back while it waits.
 */
import { GetTimeoutError, ObjectLostError, OwnerDiedError } from './errors.js';
import { failureToError, rayletError } from './failure.js';
import type { EntryState, MemoryStore } from './memory_store.js';
import type { ObjectRef } from './object_ref.js';
import type { ObjectReleaser } from './object_releaser.js';
import type { PlasmaClient } from './plasma_client.js';
import type { RayletTransport } from './raylet_connection.js';
import type { Decoder } from './serialization.js';
import type { OwnedState } from './protocol/messages.js';

/** A worker whose task waits gives its resources back (nested tasks can then run: no deadlock). */
export interface Blocking {
  block(): void;
  unblock(): void;
}

/** A driver holds no resources of the cluster: waiting changes nothing. */
export const NOT_BLOCKING: Blocking = { block: () => undefined, unblock: () => undefined };

export interface ObjectGetterDeps {
  store: MemoryStore;
  transport: Pick<RayletTransport, 'request'>;
  plasma: Pick<PlasmaClient, 'readPlasma'>;
  decoder: Decoder;
  lineage: { reconstruct(objectId: string, lost: ObjectLostError): void };
  /** Freeing releases the object now (its entry, copies and lineage). */
  references: { free(objectId: string): boolean };
  /** Where the releases' deletes go: `free` waits for them. */
  releaser: Pick<ObjectReleaser, 'flush'>;
  blocking: Blocking;
}

export class ObjectGetter {
  constructor(private readonly deps: ObjectGetterDeps) {}

  /** Values of the refs, in order; rejects with the first failure or GetTimeoutError. */
  async get(refs: ObjectRef[], timeoutMs?: number): Promise<unknown[]> {
    const { store, decoder } = this.deps;
    const pending = refs.filter((r) => store.get(r.id)?.status === 'pending');
    if (pending.length > 0) await this.waitSettled(pending, pending.length, timeoutMs, true);
    // Inline values held here are decoded in place: no promise per ref (a get may name a million).
    const values = new Array<unknown>(refs.length);
    const reads: Promise<void>[] = [];
    try {
      for (let i = 0; i < refs.length; i++) {
        const ref = refs[i]!;
        const state = store.get(ref.id);
        if (state?.status === 'ready' && state.value.kind === 'inline') values[i] = decoder.decode(state.value.data);
        else if (state?.status === 'failed') throw failureToError(state.failure, state.taskName, decoder);
        else reads.push(this.valueOf(ref).then((v) => { values[i] = v; }));
      }
    } catch (err) {
      for (const r of reads) r.catch(() => {}); // the first failure in order is the answer
      throw err;
    }
    if (reads.length > 0) await Promise.all(reads);
    return values;
  }

  async wait(refs: ObjectRef[], numReturns: number, timeoutMs?: number): Promise<[ObjectRef[], ObjectRef[]]> {
    const { store } = this.deps;
    const isSettled = (r: ObjectRef) => store.get(r.id)?.status !== 'pending';
    const settledNow = refs.filter(isSettled).length;
    if (settledNow < numReturns) await this.waitSettled(refs.filter((r) => !isSettled(r)), numReturns - settledNow, timeoutMs, false);
    const ready = refs.filter(isSettled).sort((a, b) => store.readyOrder(a.id) - store.readyOrder(b.id)).slice(0, numReturns);
    const readySet = new Set(ready);
    return [ready, refs.filter((r) => !readySet.has(r))];
  }

  /** Releases objects now: their entries here and their copies in the stores (primary and spilled). */
  async free(refs: ObjectRef[]): Promise<void> {
    let released = false;
    for (const r of refs) {
      const state = this.deps.store.get(r.id);
      if (!state || state.status === 'pending') continue;
      released = this.deps.references.free(r.id) || released;
    }
    if (!released) return;
    const reply = await this.deps.releaser.flush();
    if (reply && !reply.ok) throw rayletError(reply, 'freeing objects');
  }

  /** What this process, as owner, tells a borrower of the object (once it is no longer pending). */
  async ownedState(objectId: string): Promise<OwnedState> {
    await this.deps.store.whenSettled(objectId);
    const st = this.deps.store.get(objectId);
    return !st || st.status === 'pending' ? { status: 'unknown' } : st;
  }

  private async valueOf(ref: ObjectRef): Promise<unknown> {
    const owned = this.deps.store.get(ref.id);
    const state: EntryState = owned ?? (await this.borrow(ref));
    if (state.status === 'failed') throw failureToError(state.failure, state.taskName, this.deps.decoder);
    if (state.status === 'pending') throw new Error('unreachable: pending after wait');
    if (state.value.kind === 'inline') return this.deps.decoder.decode(state.value.data);
    try {
      return await this.deps.plasma.readPlasma(ref.id, state.value.nodeId, this.deps.decoder);
    } catch (err) {
      if (!(err instanceof ObjectLostError)) throw err;
      if (!owned) {
        // Only the owner has the task that made it (its lineage); a borrower does not ask it to re-run it.
        throw new ObjectLostError(`${err.message}. ${ref} is borrowed from client ${ref.owner.clientId} on node ${ref.owner.nodeId.slice(0, 12)}…, and only its owner rebuilds lost objects`,
          'have the owner (the process that made the ref) read it, which rebuilds it, before others read it again');
      }
      this.deps.lineage.reconstruct(ref.id, err);
      await this.deps.store.whenSettled(ref.id);
      return this.valueOf(ref);
    }
  }

  /** Asks the owner of a ref this process does not own; it answers once the object is no longer pending. */
  private async borrow(ref: ObjectRef): Promise<EntryState> {
    const reply = await this.deps.transport.request({ type: 'ownerGet', objectId: ref.id, owner: ref.owner });
    if (!reply.ok) {
      throw new OwnerDiedError(`the owner of ${ref} (client ${ref.owner.clientId} on node ${ref.owner.nodeId.slice(0, 12)}…) is gone: ${reply.error}`,
        'Ray does not recover objects whose owner died: keep the owner (driver or task) alive while others use its refs');
    }
    if (reply.info.status === 'unknown') throw new ObjectLostError(`the owner of ${ref} no longer has it (it was freed)`);
    return reply.info;
  }

  /** Waits until `count` of the refs are settled or the timeout passes. */
  private waitSettled(refs: ObjectRef[], count: number, timeoutMs: number | undefined, throwOnTimeout: boolean): Promise<void> {
    const { store, blocking } = this.deps;
    return new Promise((resolve, reject) => {
      let settled = 0;
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        if (timer) clearTimeout(timer);
        blocking.unblock();
        if (err) reject(err);
        else resolve();
      };
      blocking.block();
      // One callback for all the refs (a get of a million refs makes one function, not a million).
      const one = () => {
        settled += 1;
        if (settled >= count) finish();
      };
      for (const r of refs) store.onSettled(r.id, one);
      if (finished) return;
      if (timeoutMs !== undefined && timeoutMs >= 0) {
        timer = setTimeout(() => (throwOnTimeout
          ? finish(new GetTimeoutError(`get timed out after ${timeoutMs / 1000} s with ${refs.length - settled} of ${refs.length} objects not ready`))
          : finish()), timeoutMs);
      }
    });
  }
}
