/**
 * Reserving a placement group's bundles on raylets in two phases (Ray's gcs_placement_group_scheduler):
 * PrepareBundles on every chosen raylet (each checks and holds the resources), then CommitBundles on
 * all (the group resources appear). When one node holds all the bundles that move, a single
 * ReserveBundles call does both, atomically on that raylet. A failed phase, or a group removed in
 * the meantime, cancels what this reservation prepared on every node. Cancels and returns are
 * retried while their node lives: a missed one would leak the node's resources.
 *
 * The steps of a burst (many groups placed or removed in one turn) go to each node as one call, in
 * which each group succeeds or fails on its own.
 */
import {
  TurnBatcher, bundleGroupResources, formatAddress, sumShapes, toResourceMap, type BatchOutcome, type BundleOperation,
  type Config, type Logger, type PlacementGroupState, type RayletClient, type ResourceMap,
} from '@rayts/common';

/** One bundle of one group, as a raylet step names it. */
export type BundleKey = { placementGroupId: string; bundleIndex: number; resources: ResourceMap };

/** How one group's step went on one node. */
type StepResult = { success: boolean; reason: string };

/**
 * Where one reservation stands:
 * - `reserving`: one node; ReserveBundles prepares and commits there in one call;
 * - `preparing`: several nodes; PrepareBundles holds the resources on each, nothing is usable yet;
 * - `committing`: every node prepared (the group shows PREPARED); CommitBundles makes them usable;
 * - `cancelling`: a step failed or the group was removed; CancelBundles on every node of the reservation;
 * - `committed` / `cancelled`: done (the lease is forgotten when `reserve` returns). Only a committed
 *   reservation leaves anything held.
 */
export type LeasingState = 'reserving' | 'preparing' | 'committing' | 'cancelling' | 'committed' | 'cancelled';

/** The group a reservation is for: its state shows PREPARED between the phases and REMOVED if removed meanwhile. */
export interface ReservedGroup {
  readonly placementGroupId: string;
  state: PlacementGroupState;
}

/** What a reservation needs of the membership view. */
export interface ReservationNodes {
  get(nodeId: string): { record: { nodeIp: string; rayletPort: number } } | undefined;
  /** A raylet's exact ordinary resources after a step. */
  updateResources(nodeId: string, total: ResourceMap, available: ResourceMap): void;
  /** Group resources appear (+1, committed) or go (-1, returned or cancelled). */
  shiftGroupResources(nodeId: string, delta: ResourceMap, sign: 1 | -1): void;
}

/** The raylet calls a reservation makes (a `ClientPool<RayletClient>` in the head). */
export interface ReservationRaylets {
  get(address: string): Pick<RayletClient, 'bundles'>;
}

export interface BundleReservationsDeps {
  nodes: ReservationNodes;
  raylets: ReservationRaylets;
  config: Pick<Config, 'placementGroupRetryMinMs' | 'placementGroupRetryMaxMs' | 'placementGroupRetryMultiplier'>;
  logger: Logger;
}

/** A reservation's end: committed, or cancelled with the reason (`removed` when the group was removed). */
export type ReservationOutcome = { committed: true } | { committed: false; reason: string };

export class BundleReservations {
  /** One per node and step: gathers a turn's steps into one call to that raylet. */
  private readonly stepBatchers = new Map<string, TurnBatcher<BundleKey[], StepResult>>();
  /** Reservations in flight, by group (a group has at most one: its placement attempts do not overlap). */
  private readonly leases = new Map<string, LeasingState>();
  private stopped = false;

  constructor(private readonly deps: BundleReservationsDeps) {}

  stop(): void {
    this.stopped = true;
  }

  /**
   * Reserves `byNode` for the group. Nothing stays held unless it ends committed; the group's
   * state is PREPARED between the phases and back as it was after a cancel.
   */
  async reserve(g: ReservedGroup, byNode: Map<string, BundleKey[]>): Promise<ReservationOutcome> {
    const id = g.placementGroupId;
    try {
      return await this.run(g, byNode);
    } finally {
      this.leases.delete(id);
    }
  }

  /** Where the group's reservation in flight stands; undefined when none is. */
  leasingState(placementGroupId: string): LeasingState | undefined {
    return this.leases.get(placementGroupId);
  }

  private async run(g: ReservedGroup, byNode: Map<string, BundleKey[]>): Promise<ReservationOutcome> {
    const id = g.placementGroupId;
    const stateBefore = g.state;
    const cancel = async (reason: string): Promise<ReservationOutcome> => {
      this.leases.set(id, 'cancelling');
      await Promise.all([...byNode].map(([nodeId, bundles]) => this.release(nodeId, 'CancelBundles', bundles)));
      if (g.state === 'PREPARED') g.state = stateBefore;
      this.leases.set(id, 'cancelled');
      return { committed: false, reason };
    };
    if (byNode.size === 1) {
      // One node: its raylet prepares and commits in one call, which is atomic there.
      this.leases.set(id, 'reserving');
      const reserved = await this.phase('ReserveBundles', byNode);
      if (reserved !== true) {
        this.leases.set(id, 'cancelled'); // nothing is held there
        return { committed: false, reason: reserved };
      }
      if (isRemoved(g)) return cancel('removed');
    } else {
      this.leases.set(id, 'preparing');
      const prepared = await this.phase('PrepareBundles', byNode);
      if (prepared !== true || isRemoved(g)) return cancel(prepared === true ? 'removed' : prepared);
      // No version bump: waiters care about CREATED, and each bump costs every waiter a round trip.
      g.state = 'PREPARED';
      this.leases.set(id, 'committing');
      const committed = await this.phase('CommitBundles', byNode);
      if (committed !== true || isRemoved(g)) return cancel(committed === true ? 'removed' : committed);
    }
    this.leases.set(id, 'committed');
    return { committed: true };
  }

  /** Cancel or return on a node, retried while the node lives (a missed one would leak its resources). */
  async release(nodeId: string, operation: 'CancelBundles' | 'ReturnBundles', bundles: BundleKey[]): Promise<void> {
    const { config, nodes, logger } = this.deps;
    let delay = config.placementGroupRetryMinMs;
    while (!this.stopped && nodes.get(nodeId)) {
      try {
        await this.call(nodeId, operation, bundles);
        return;
      } catch (err) {
        logger.warn(`${operation} failed, retrying`, { nodeId, error: (err as Error).message });
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(config.placementGroupRetryMaxMs, delay * config.placementGroupRetryMultiplier);
      }
    }
  }

  /** The node died: its pending steps are dropped with their batchers. */
  forgetNode(nodeId: string): void {
    for (const key of this.stepBatchers.keys()) if (key.endsWith(` ${nodeId}`)) this.stepBatchers.delete(key);
  }

  /** One phase on every node at once: true, or why it failed. */
  private async phase(operation: BundleOperation, byNode: Map<string, BundleKey[]>): Promise<true | string> {
    const results = await Promise.all([...byNode].map(async ([nodeId, bundles]) => {
      try {
        const reply = await this.call(nodeId, operation, bundles);
        return reply.success ? true : `node ${nodeId.slice(0, 12)}…: ${reply.reason}`;
      } catch (err) {
        return `node ${nodeId.slice(0, 12)}…: ${(err as Error).message}`;
      }
    }));
    return results.find((r): r is string => r !== true) ?? true;
  }

  /** One step for one group's bundles on a node, batched with the turn's other steps there. */
  private call(nodeId: string, operation: BundleOperation, bundles: BundleKey[]): Promise<StepResult> {
    const key = `${operation} ${nodeId}`;
    let batcher = this.stepBatchers.get(key);
    if (!batcher) this.stepBatchers.set(key, (batcher = new TurnBatcher((calls) => this.callNow(nodeId, operation, calls))));
    return batcher.add(bundles);
  }

  private async callNow(nodeId: string, operation: BundleOperation, calls: BundleKey[][]): Promise<BatchOutcome<StepResult>[]> {
    const { nodes, raylets } = this.deps;
    const node = nodes.get(nodeId);
    if (!node) throw new Error('the node is not alive');
    const reply = await raylets.get(formatAddress(node.record.nodeIp, node.record.rayletPort)).bundles(operation, nodeId, calls.flat());
    nodes.updateResources(nodeId, toResourceMap(reply.total), toResourceMap(reply.available));
    const failed = new Map(reply.failures.map((f) => [f.placementGroupId, f.reason]));
    const results = calls.map((bundles): StepResult => {
      const reason = bundles.map((b) => failed.get(b.placementGroupId)).find((r) => r !== undefined);
      return reason === undefined ? { success: true, reason: '' } : { success: false, reason };
    });
    if (operation !== 'PrepareBundles') {
      // Committed bundles add their group resources; returned or cancelled ones take theirs away
      // (a cancel of a bundle never committed finds none: the keys just stay absent).
      const done = calls.filter((_, i) => results[i]!.success).flat();
      const delta = sumShapes(done.map((b) => bundleGroupResources(b.placementGroupId, b.bundleIndex, b.resources)));
      nodes.shiftGroupResources(nodeId, delta, operation === 'CommitBundles' || operation === 'ReserveBundles' ? 1 : -1);
    }
    return results.map((value) => ({ ok: true, value }));
  }
}

/** A function, not an inline test: the state can change across an await (TypeScript's narrowing cannot see that). */
export function isRemoved(g: { state: PlacementGroupState }): boolean {
  return g.state === 'REMOVED';
}
