/** Persistence of placement groups and their bundles' nodes. Each change commits before the caller goes on (and tells anyone). */
import type { Db } from './database.js';
import { TurnBatcher, type PlacementGroupState, type PlacementStrategy, type ResourceMap } from '@rayts/common';

export interface PlacementGroupRecord {
  placementGroupId: string;
  name: string;
  strategy: PlacementStrategy;
  state: PlacementGroupState;
  jobId: string;
  detached: boolean;
  createdAtMs: number;
  removedAtMs: number;
  bundles: { resources: ResourceMap; nodeId: string | undefined }[];
}

interface GroupRow {
  placement_group_id: string; name: string; strategy: PlacementStrategy; state: PlacementGroupState; job_id: string;
  detached: number; created_at_ms: number; removed_at_ms: number | null;
}

interface BundleRow {
  placement_group_id: string; bundle_index: number; resources: string; node_id: string | null;
}

/** Removals between two prunes of the removed groups kept. */
const PRUNE_EVERY = 100;

export class PlacementGroupTable {
  private readonly insertGroup;
  private readonly insertBundle;
  private readonly setState;
  private readonly setNode;
  private readonly markRemoved;
  private readonly prune;

  constructor(private readonly db: Db, private readonly removedKept: number) {
    this.insertGroup = db.prepare(`INSERT INTO placement_groups (placement_group_id, name, strategy, state, job_id, detached, created_at_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.insertBundle = db.prepare('INSERT INTO placement_group_bundles (placement_group_id, bundle_index, resources, node_id) VALUES (?, ?, ?, ?)');
    this.setState = db.prepare('UPDATE placement_groups SET state = ? WHERE placement_group_id = ?');
    this.setNode = db.prepare('UPDATE placement_group_bundles SET node_id = ? WHERE placement_group_id = ? AND bundle_index = ?');
    this.markRemoved = db.prepare(`UPDATE placement_groups SET state = 'REMOVED', removed_at_ms = ? WHERE placement_group_id = ?`);
    this.prune = db.prepare(`DELETE FROM placement_groups WHERE state = 'REMOVED' AND placement_group_id NOT IN
      (SELECT placement_group_id FROM placement_groups WHERE state = 'REMOVED' ORDER BY removed_at_ms DESC LIMIT ?)`);
  }

  all(): PlacementGroupRecord[] {
    const bundles = new Map<string, BundleRow[]>();
    for (const b of this.db.prepare('SELECT * FROM placement_group_bundles ORDER BY placement_group_id, bundle_index').all() as BundleRow[]) {
      let list = bundles.get(b.placement_group_id);
      if (!list) bundles.set(b.placement_group_id, (list = []));
      list.push(b);
    }
    return (this.db.prepare('SELECT * FROM placement_groups ORDER BY created_at_ms, rowid').all() as GroupRow[]).map((r) => ({
      placementGroupId: r.placement_group_id, name: r.name, strategy: r.strategy, state: r.state, jobId: r.job_id,
      detached: r.detached === 1, createdAtMs: r.created_at_ms, removedAtMs: r.removed_at_ms ?? 0,
      bundles: (bundles.get(r.placement_group_id) ?? []).map((b) => ({ resources: JSON.parse(b.resources) as ResourceMap, nodeId: b.node_id ?? undefined })),
    }));
  }

  /** New groups and their bundles, in one transaction. */
  insertMany(groups: PlacementGroupRecord[]): void {
    this.db.transaction(() => {
      for (const g of groups) {
        this.insertGroup.run(g.placementGroupId, g.name, g.strategy, g.state, g.jobId, g.detached ? 1 : 0, g.createdAtMs);
        g.bundles.forEach((b, i) => this.insertBundle.run(g.placementGroupId, i, JSON.stringify(b.resources), b.nodeId ?? null));
      }
    })();
  }

  /** The group's state and every bundle's node, in one transaction. */
  save(g: PlacementGroupRecord): void {
    this.saveAll([g]);
  }

  /**
   * Like save, but the saves asked for in one turn of the event loop share one transaction (a burst
   * of placed groups); resolves once committed, so the caller tells nobody before that.
   */
  saveSoon(g: PlacementGroupRecord): Promise<void> {
    return this.pendingSaves.add(g);
  }

  private readonly pendingSaves = new TurnBatcher<PlacementGroupRecord, void>((groups) => {
    this.saveAll(groups);
    return groups.map(() => ({ ok: true, value: undefined }));
  });

  private saveAll(groups: PlacementGroupRecord[]): void {
    this.db.transaction(() => {
      for (const g of groups) {
        this.setState.run(g.state, g.placementGroupId);
        g.bundles.forEach((b, i) => this.setNode.run(b.nodeId ?? null, g.placementGroupId, i));
      }
    })();
  }

  private removedSincePrune = 0;

  /** Marks groups removed; the oldest removed ones beyond `removedKept` are pruned in batches (a prune scans them all). */
  removeMany(placementGroupIds: string[], atMs: number): void {
    this.db.transaction(() => {
      for (const id of placementGroupIds) this.markRemoved.run(atMs, id);
      this.removedSincePrune += placementGroupIds.length;
      if (this.removedSincePrune >= PRUNE_EVERY) {
        this.removedSincePrune = 0;
        this.prune.run(this.removedKept);
      }
    })();
  }
}
