/**
 * This node's share of placement groups: the raylet side of the head's two-phase reservation.
 * Prepare takes a bundle's resources out of `available` (all bundles of a call or none); commit
 * adds the group resources (`CPU_group_<pg>`, `CPU_group_<i>_<pg>`, bundle markers) to `total` and
 * `available`, so the ordinary scheduling runs tasks aimed at the bundle here; cancel undoes a
 * prepare or a commit; return gives a committed bundle back. Every step is idempotent, as the head
 * retries them after timeouts and restarts.
 */
import { bundleGroupResources, fits, plainResources, sumShapes, type Logger, type ResourceMap } from '@rayts/common';

/** The scheduler state a reservation changes in place. */
export interface ReservableResources {
  readonly total: ResourceMap;
  readonly available: ResourceMap;
  /** Runs queued tasks (called after group resources appear or resources come back). */
  dispatch(): void;
}

export interface BundleRef {
  placementGroupId: string;
  bundleIndex: number;
  resources: ResourceMap;
}

interface Reservation {
  bundle: BundleRef;
  committed: boolean;
}

export type BundleResult = { success: true } | { success: false; reason: string };

const key = (b: Pick<BundleRef, 'placementGroupId' | 'bundleIndex'>) => `${b.placementGroupId}:${b.bundleIndex}`;

/** Float sums leave dust like 1e-16; a group resource below this is gone. */
const EPSILON = 1e-9;

export class BundleReservations {
  private readonly reservations = new Map<string, Reservation>();
  /** While a batch runs: what it did, logged once at its end, and whether tasks should be dispatched. */
  private batched?: { operation: string; bundles: Map<string, string[]>; dispatch: boolean };

  constructor(private readonly resources: ReservableResources, private readonly logger: Logger) {}

  /** Holds the resources of every new bundle in the call, or of none when they do not all fit. */
  prepare(bundles: BundleRef[]): BundleResult {
    const fresh = bundles.filter((b) => !this.reservations.has(key(b)));
    const need = sumShapes(fresh.map((b) => b.resources));
    if (!fits(need, this.resources.available)) {
      return { success: false, reason: `this node cannot hold ${JSON.stringify(need)} now (available ${JSON.stringify(this.resources.available)})` };
    }
    for (const b of fresh) {
      add(this.resources.available, b.resources, -1);
      this.reservations.set(key(b), { bundle: b, committed: false });
    }
    if (fresh.length) this.note('prepared', fresh.map(key), false);
    return { success: true };
  }

  /** Makes the group resources of prepared bundles appear. A bundle never prepared here fails the call. */
  commit(bundles: BundleRef[]): BundleResult {
    const missing = bundles.filter((b) => !this.reservations.has(key(b)));
    if (missing.length) return { success: false, reason: `bundles ${missing.map(key).join(', ')} were not prepared on this node` };
    for (const b of bundles) {
      const r = this.reservations.get(key(b))!;
      if (r.committed) continue;
      r.committed = true;
      const group = bundleGroupResources(b.placementGroupId, b.bundleIndex, r.bundle.resources);
      add(this.resources.total, group, 1);
      add(this.resources.available, group, 1);
    }
    this.note('committed', bundles.map(key), true);
    return { success: true };
  }

  /** Undoes prepares and commits; unknown bundles are ignored (the head may cancel twice). */
  cancel(bundles: BundleRef[]): BundleResult {
    return this.release(bundles, 'cancelled');
  }

  /** Gives committed bundles back (the group was removed or rescheduled). */
  return(bundles: BundleRef[]): BundleResult {
    return this.release(bundles, 'returned');
  }

  private release(bundles: BundleRef[], what: string): BundleResult {
    const released: string[] = [];
    for (const b of bundles) {
      const r = this.reservations.get(key(b));
      if (!r) continue;
      this.reservations.delete(key(b));
      if (r.committed) {
        // Tasks still running in the bundle keep going; their late release of a group resource
        // that no longer exists is ignored by the scheduler.
        const group = bundleGroupResources(b.placementGroupId, b.bundleIndex, r.bundle.resources);
        add(this.resources.total, group, -1);
        add(this.resources.available, group, -1);
        for (const name of Object.keys(group)) {
          if ((this.resources.total[name] ?? 0) <= EPSILON) {
            delete this.resources.total[name];
            delete this.resources.available[name];
          }
        }
      }
      add(this.resources.available, r.bundle.resources, 1);
      released.push(key(b));
    }
    if (released.length) this.note(what, released, true);
    return { success: true };
  }

  /**
   * Runs the steps of one call (many groups) with one log line and at most one dispatch of queued
   * tasks at the end, instead of one each per group.
   */
  batch(operation: string, steps: () => void): void {
    this.batched = { operation, bundles: new Map(), dispatch: false };
    const done = this.batched;
    try {
      steps();
    } finally {
      this.batched = undefined;
      for (const [what, bundles] of done.bundles) this.logger.info(`bundles ${what}`, { operation, count: bundles.length, bundles });
      if (done.dispatch) this.resources.dispatch();
    }
  }

  /** Logs a step (or adds it to the batch's line); `dispatch` when resources appeared or came back. */
  private note(what: string, bundles: string[], dispatch: boolean): void {
    if (!this.batched) {
      this.logger.info(`bundles ${what}`, { bundles });
      if (dispatch) this.resources.dispatch();
      return;
    }
    const list = this.batched.bundles.get(what);
    if (list) list.push(...bundles);
    else this.batched.bundles.set(what, bundles);
    this.batched.dispatch ||= dispatch;
  }

  /**
   * This node's ordinary resources after a step, for the head's placement of the next groups. Not
   * the group resources: there are four per bundle, and sending them all with every step made a
   * burst of groups quadratic (the periodic report carries them).
   */
  resourcesNow(): { total: ResourceMap; available: ResourceMap } {
    return { total: plainResources(this.resources.total), available: plainResources(this.resources.available) };
  }

  /** Bundles held here, for logs and tests. */
  held(): { placementGroupId: string; bundleIndex: number; committed: boolean }[] {
    return [...this.reservations.values()].map((r) => ({ placementGroupId: r.bundle.placementGroupId, bundleIndex: r.bundle.bundleIndex, committed: r.committed }));
  }
}

function add(into: ResourceMap, shape: ResourceMap, sign: 1 | -1): void {
  for (const [k, v] of Object.entries(shape)) into[k] = (into[k] ?? 0) + sign * v;
}
