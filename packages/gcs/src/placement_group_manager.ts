/**
 * The head's placement groups: the registry (by id and name, in SQLite) and the queue of groups
 * waiting for placement. It places each group's bundles over the live node view (bundle_placement.ts)
 * and reserves them on the raylets in two phases (bundle_reservation.ts). A group that could not be
 * placed or reserved waits, retried with backoff (100 ms → 1 s ×1.5 like Ray), and at once when a
 * node joins or a group is removed. A node's death sends its bundles back to placement (RESCHEDULING).
 * Groups live in SQLite: after a head restart CREATED bundles stay where they are, and every raylet
 * is told to drop bundles the head does not know as held (reservations in flight when the head died).
 */
import {
  VersionWaiters, type Config, type Logger, type PlacementGroupState, type PlacementStrategy, type ResourceDemand__Output, type ResourceMap,
} from '@rayts/common';
import { placeBundles } from './bundle_placement.js';
import { isRemoved, type BundleReservations } from './bundle_reservation.js';
import { NameTakenError, StateDiskFullError } from './errors.js';
import { bundlesByNode, bundlesNotHeldOn, heldBundles } from './placement_group_bundles.js';
import { pendingGroupDemands } from './placement_group_demands.js';
import type { LiveNode } from './node_manager.js';
import type { NodeRecord } from './storage/node_table.js';
import type { PlacementGroupRecord, PlacementGroupTable } from './storage/placement_group_table.js';
import type { DeferredWrites } from './storage/deferred_writes.js';

export interface PlacementGroup extends PlacementGroupRecord {
  /** Grows with every visible change; GetPlacementGroup's long poll waits on it. */
  version: number;
  pendingReason: string;
  /** Some bundle asks for resources no node has. */
  infeasible: boolean;
  retryDelayMs: number;
  nextAttemptMs: number;
  /** A placement attempt is in flight (attempts of different groups overlap). */
  placing?: boolean;
}

export interface CreateRequest {
  placementGroupId: string;
  name: string;
  strategy: PlacementStrategy;
  bundles: ResourceMap[];
  jobId: string;
  detached: boolean;
}

/** What the manager needs of the group table. */
export type PlacementGroupStore = Pick<PlacementGroupTable, 'all' | 'insertMany' | 'removeMany' | 'save' | 'saveSoon'>;

/** What the manager needs of membership: node events and the live view. */
export interface PlacementGroupNodes {
  on(event: 'nodeAdded' | 'nodeDead', listener: (record: NodeRecord) => void): unknown;
  alive(): LiveNode[];
  get(nodeId: string): LiveNode | undefined;
}

export interface PlacementGroupManagerDeps {
  table: PlacementGroupStore;
  nodes: PlacementGroupNodes;
  /** The two-phase reservations over the raylets. */
  reservations: BundleReservations;
  config: Pick<Config, 'placementGroupRetryMinMs' | 'placementGroupRetryMaxMs' | 'placementGroupRetryMultiplier' | 'removedPlacementGroupsKept'>;
  logger: Logger;
  /** Changes the head makes by itself (a placement, bundles lost with a node) that a full state disk holds back. */
  writes: DeferredWrites;
}

const needsPlacement = (g: PlacementGroup) => g.state === 'PENDING' || g.state === 'RESCHEDULING';

export class PlacementGroupManager {
  /** Every group the head knows, removed ones included (until pruned), for lookups by id. */
  private readonly groups = new Map<string, PlacementGroup>();
  /** The groups not removed: what placement, retries and job cleanup scan (removed ones can be many). */
  private readonly live = new Map<string, PlacementGroup>();
  private readonly byName = new Map<string, string>();
  private readonly waiters = new VersionWaiters();
  /** Nodes a restarted head has not yet told to drop unknown bundles: nothing is placed there before. */
  private readonly uncleaned = new Set<string>();
  /** Versions never go back, even across head restarts (clients long-poll with the last one they saw). */
  private lastVersion = Date.now() * 1000;
  private running = false;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly table: PlacementGroupStore;
  private readonly nodes: PlacementGroupNodes;
  private readonly reservations: BundleReservations;
  private readonly config: PlacementGroupManagerDeps['config'];
  private readonly logger: Logger;
  private readonly writes: DeferredWrites;

  constructor(deps: PlacementGroupManagerDeps) {
    ({ table: this.table, nodes: this.nodes, reservations: this.reservations, config: this.config, logger: this.logger, writes: this.writes } = deps);
    for (const record of this.table.all()) {
      const group: PlacementGroup = { ...record, version: this.nextVersion(), pendingReason: '', infeasible: false, retryDelayMs: 0, nextAttemptMs: 0 };
      // PREPARED is never stored; a bundle without a node in a CREATED group cannot be: place it again.
      if (group.state === 'CREATED' && group.bundles.some((b) => !b.nodeId)) group.state = 'RESCHEDULING';
      this.groups.set(group.placementGroupId, group);
      if (group.state === 'REMOVED') continue;
      this.live.set(group.placementGroupId, group);
      if (group.name) this.byName.set(group.name, group.placementGroupId);
    }
  }

  /** Listens to membership, cleans up after a restart, and starts placing pending groups. */
  start(): void {
    this.nodes.on('nodeAdded', () => this.retrySoon());
    this.nodes.on('nodeDead', (record) => this.onNodeDead(record.nodeId));
    for (const node of this.nodes.alive()) this.uncleaned.add(node.record.nodeId);
    for (const nodeId of this.uncleaned) void this.cleanNode(nodeId);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.reservations.stop();
    this.waiters.wakeAll();
  }

  /**
   * Creates groups (one table transaction for all of them): each request gives its group, or the
   * NameTakenError it was refused with. A retried create of a known id gives the group it made.
   */
  createMany(requests: CreateRequest[]): (PlacementGroup | NameTakenError)[] {
    const fresh: PlacementGroup[] = [];
    const freshById = new Map<string, PlacementGroup>();
    const names = new Map<string, string>();
    const outcomes = requests.map((request): PlacementGroup | NameTakenError => {
      const existing = this.groups.get(request.placementGroupId) ?? freshById.get(request.placementGroupId);
      if (existing) return existing;
      const holder = request.name ? this.byName.get(request.name) ?? names.get(request.name) : undefined;
      if (holder) return new NameTakenError(`a placement group named '${request.name}' already exists (${holder})`);
      const group: PlacementGroup = {
        placementGroupId: request.placementGroupId, name: request.name, strategy: request.strategy, state: 'PENDING',
        jobId: request.jobId, detached: request.detached, createdAtMs: Date.now(), removedAtMs: 0,
        bundles: request.bundles.map((resources) => ({ resources, nodeId: undefined })),
        version: this.nextVersion(), pendingReason: 'not placed yet', infeasible: false, retryDelayMs: 0, nextAttemptMs: 0,
      };
      if (group.name) names.set(group.name, group.placementGroupId);
      fresh.push(group);
      freshById.set(group.placementGroupId, group);
      return group;
    });
    if (fresh.length === 0) return outcomes;
    this.table.insertMany(fresh);
    for (const group of fresh) {
      this.groups.set(group.placementGroupId, group);
      this.live.set(group.placementGroupId, group);
      if (group.name) this.byName.set(group.name, group.placementGroupId);
      this.logger.info('placement group created', { placementGroupId: group.placementGroupId, strategy: group.strategy, bundles: group.bundles.map((b) => b.resources) });
    }
    this.kick();
    return outcomes;
  }

  /**
   * Removes groups (one table transaction) and gives their bundles back; each answer is false when
   * that group was unknown or already removed. Resolves once every node has its bundles back.
   */
  async removeMany(placementGroupIds: string[]): Promise<boolean[]> {
    const removing = [...new Set(placementGroupIds)].map((id) => this.live.get(id)).filter((g): g is PlacementGroup => !!g);
    if (removing.length === 0) return placementGroupIds.map(() => false);
    const held = removing.map(heldBundles);
    const now = Date.now();
    for (const g of removing) {
      g.state = 'REMOVED';
      g.removedAtMs = now;
      this.live.delete(g.placementGroupId);
      if (g.name && this.byName.get(g.name) === g.placementGroupId) this.byName.delete(g.name);
    }
    this.table.removeMany(removing.map((g) => g.placementGroupId), now);
    for (const g of removing) {
      this.changed(g);
      this.logger.info('placement group removed', { placementGroupId: g.placementGroupId });
    }
    await Promise.all(held.flatMap((byNode) => [...byNode].map(([nodeId, bundles]) => this.reservations.release(nodeId, 'ReturnBundles', bundles))));
    this.forgetRemoved(removing.length);
    this.retrySoon();
    const removed = new Set(removing.map((g) => g.placementGroupId));
    // A duplicate id in the call counts once, like two single calls would.
    return placementGroupIds.map((id) => removed.delete(id));
  }

  async removeJobGroups(jobId: string): Promise<void> {
    const owned = [...this.live.values()].filter((g) => g.jobId === jobId && !g.detached);
    if (owned.length) await this.removeMany(owned.map((g) => g.placementGroupId));
  }

  get(placementGroupId: string, name = ''): PlacementGroup | undefined {
    return this.groups.get(placementGroupId || this.byName.get(name) || '');
  }

  /** Answers once the group's version reaches `minVersion`, or after `waitMs` with what it is. */
  async waitForVersion(placementGroupId: string, name: string, minVersion: number, waitMs: number): Promise<PlacementGroup | undefined> {
    const g = this.get(placementGroupId, name);
    if (!g || g.version >= minVersion || waitMs <= 0 || this.stopped) return g;
    await this.waiters.wait(g.placementGroupId, waitMs);
    return this.groups.get(g.placementGroupId);
  }

  list(): PlacementGroup[] {
    return [...this.groups.values()];
  }

  /** Groups waiting for placement, in `rayts status` Pending Demands' shape: equal groups merged. */
  pendingDemands(): ResourceDemand__Output[] {
    return pendingGroupDemands([...this.live.values()].filter(needsPlacement));
  }

  // ---- placement ------------------------------------------------------------------------------

  private nextVersion(): number {
    this.lastVersion += 1;
    return this.lastVersion;
  }

  private changed(g: PlacementGroup): void {
    g.version = this.nextVersion();
    this.waiters.wake(g.placementGroupId);
  }

  /** Retries every waiting group now (resources may have appeared). */
  private retrySoon(): void {
    for (const g of this.live.values()) if (needsPlacement(g)) { g.nextAttemptMs = 0; g.retryDelayMs = 0; }
    this.kick();
  }

  /**
   * Runs the placement loop. Groups are planned one after the other (each plan takes its bundles out
   * of the head's view at once), and their reservations then run concurrently: the raylets' answers
   * are exact, so an overlap that the view missed only fails a prepare, which retries.
   */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          const due = [...this.live.values()].filter((g) => needsPlacement(g) && !g.placing && g.nextAttemptMs <= performance.now());
          await Promise.all(due.map((g) => this.tryPlace(g)));
        } while (this.again && !this.stopped);
      } catch (err) {
        this.logger.error('placement group scheduling failed', { error: (err as Error).message });
      } finally {
        this.running = false;
        this.armTimer();
      }
    })();
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    const due = [...this.live.values()].filter(needsPlacement).map((g) => g.nextAttemptMs);
    if (due.length === 0 || this.stopped) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, Math.min(...due) - performance.now()));
    this.timer.unref();
  }

  private backOff(g: PlacementGroup, reason: string, infeasible: boolean): void {
    const { placementGroupRetryMinMs: min, placementGroupRetryMaxMs: max, placementGroupRetryMultiplier: factor } = this.config;
    g.retryDelayMs = g.retryDelayMs === 0 ? min : Math.min(max, g.retryDelayMs * factor);
    g.nextAttemptMs = performance.now() + g.retryDelayMs;
    if (g.pendingReason !== reason || g.infeasible !== infeasible) this.logger.info('placement group waits', { placementGroupId: g.placementGroupId, reason });
    g.pendingReason = reason;
    g.infeasible = infeasible;
  }

  private async tryPlace(g: PlacementGroup): Promise<void> {
    g.placing = true;
    let recording = false;
    try {
      recording = await this.attempt(g);
    } finally {
      if (!recording) g.placing = false;
    }
  }

  /** One placement attempt; true when the bundles are held but a full disk keeps that from being written (the group stays `placing` until it is). */
  private async attempt(g: PlacementGroup): Promise<boolean> {
    const view = this.nodes.alive().filter((n) => !this.uncleaned.has(n.record.nodeId))
      .map((n) => ({ nodeId: n.record.nodeId, total: n.total, available: n.available }));
    const fixed = g.bundles.map((b) => b.nodeId);
    const placement = placeBundles(g.bundles.map((b) => b.resources), g.strategy, view, fixed);
    if (placement.kind === 'pending') {
      this.backOff(g, placement.reason, placement.infeasible);
      return false;
    }
    // Only bundles without a (live) node move; the others stay reserved where they are.
    const moving = bundlesByNode(g, (_, i) => (fixed[i] === placement.nodeIds[i] ? undefined : placement.nodeIds[i]));
    // Counted against the nodes now, so the next group's plan does not reuse the same resources.
    for (const [nodeId, bundles] of moving) {
      const live = this.nodes.get(nodeId);
      if (live) for (const b of bundles) for (const [k, v] of Object.entries(b.resources)) live.available[k] = (live.available[k] ?? 0) - v;
    }
    const outcome = await this.reservations.reserve(g, moving);
    if (!outcome.committed) {
      if (!isRemoved(g)) this.backOff(g, outcome.reason, false);
      return false;
    }
    // A node that died while we committed sends its bundles back to placement.
    const placed = (): PlacementGroupRecord => {
      const bundles = g.bundles.map((b, i) => ({ ...b, nodeId: this.nodes.get(placement.nodeIds[i]!) ? placement.nodeIds[i] : undefined }));
      return { ...g, bundles, state: bundles.every((b) => b.nodeId) ? 'CREATED' : 'RESCHEDULING' };
    };
    try {
      const record = placed();
      await this.table.saveSoon(record);
      this.recordPlaced(g, record);
      return false;
    } catch (err) {
      if (!(err instanceof StateDiskFullError)) throw err;
    }
    this.writes.run(`that placement group ${g.placementGroupId} is placed`, () => {
      if (isRemoved(g)) {
        for (const [nodeId, bundles] of moving) void this.reservations.release(nodeId, 'ReturnBundles', bundles);
      } else {
        const record = placed();
        this.table.save(record);
        this.recordPlaced(g, record);
      }
      g.placing = false;
      this.kick();
    });
    return true;
  }

  /** What was written of a placement, now in memory too. */
  private recordPlaced(g: PlacementGroup, record: PlacementGroupRecord): void {
    Object.assign(g, { state: record.state, bundles: record.bundles, pendingReason: '', infeasible: false, retryDelayMs: 0, nextAttemptMs: 0 });
    this.changed(g);
    this.logger.info('placement group placed', { placementGroupId: g.placementGroupId, state: g.state, nodes: g.bundles.map((b) => b.nodeId) });
  }

  private onNodeDead(nodeId: string): void {
    this.uncleaned.delete(nodeId);
    this.reservations.forgetNode(nodeId);
    for (const g of this.live.values()) {
      if (g.bundles.some((b) => b.nodeId === nodeId)) this.writes.run(`that placement group ${g.placementGroupId} lost its bundles on node ${nodeId}`, () => this.bundlesLost(g, nodeId));
    }
    this.retrySoon();
  }

  /** The group's bundles on a dead node go back to placement (written first; again after a full disk). */
  private bundlesLost(g: PlacementGroup, nodeId: string): void {
    if (isRemoved(g) || !g.bundles.some((b) => b.nodeId === nodeId)) return;
    const record: PlacementGroupRecord = { ...g, state: 'RESCHEDULING', bundles: g.bundles.map((b) => (b.nodeId === nodeId ? { ...b, nodeId: undefined } : b)) };
    this.table.save(record);
    Object.assign(g, { state: record.state, bundles: record.bundles });
    this.changed(g);
    this.logger.warn('placement group bundles lost with their node, rescheduling', { placementGroupId: g.placementGroupId, nodeId });
    this.retrySoon();
  }

  /**
   * After a head restart: the node drops every bundle the head does not record as held there
   * (reservations in flight when the head died, groups removed before their bundles came back).
   */
  private async cleanNode(nodeId: string): Promise<void> {
    const stale = bundlesNotHeldOn(this.groups.values(), nodeId);
    if (stale.length) await this.reservations.release(nodeId, 'CancelBundles', stale);
    this.uncleaned.delete(nodeId);
    this.kick();
  }

  private removalsSinceForget = 0;

  /** Drops removed groups the table pruned, so memory stays bounded too. */
  private forgetRemoved(count: number): void {
    // In batches, like the table's prune: a scan per removal would cost O(groups) each.
    this.removalsSinceForget += count;
    if (this.removalsSinceForget < 100) return;
    this.removalsSinceForget = 0;
    const removed = [...this.groups.values()].filter((g) => g.state === 'REMOVED');
    const excess = removed.length - this.config.removedPlacementGroupsKept;
    if (excess <= 0) return;
    removed.sort((a, b) => a.removedAtMs - b.removedAtMs);
    for (const g of removed.slice(0, excess)) this.groups.delete(g.placementGroupId);
  }
}

export type { PlacementGroupState };
