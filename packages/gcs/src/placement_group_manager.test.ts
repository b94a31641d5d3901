/**
 * PlacementGroupManager with its reservations over fake raylets, a fake membership view and a fake
 * table: no processes, no database.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError, loadConfig, nullLogger, pollUntil, type BundleOperation, type BundlesReply__Output, type BundleSpec__Output, type ResourceMap,
} from '@rayts/common';
import { BundleReservations } from './bundle_reservation.js';
import { NameTakenError, StateDiskFullError } from './errors.js';
import type { LiveNode } from './node_manager.js';
import { PlacementGroupManager, type CreateRequest, type PlacementGroup, type PlacementGroupStore } from './placement_group_manager.js';
import type { PlacementGroupRecord } from './storage/placement_group_table.js';
import type { NodeRecord } from './storage/node_table.js';
import { DeferredWrites } from './storage/deferred_writes.js';

// Timer retries are a minute away: whatever placement happens in a test was triggered by an event.
const config = loadConfig({}, { placementGroupRetryMinMs: 60_000, placementGroupRetryMaxMs: 60_000 });

class FakeTable implements PlacementGroupStore {
  readonly rows = new Map<string, PlacementGroupRecord>();
  /** The disk under the state dir is full: every write throws. */
  full = false;
  all(): PlacementGroupRecord[] {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
  insertMany(groups: PlacementGroupRecord[]): void {
    for (const g of groups) this.save(g);
  }
  save(g: PlacementGroupRecord): void {
    if (this.full) throw new StateDiskFullError('the disk is full');
    const { placementGroupId, name, strategy, state, jobId, detached, createdAtMs, removedAtMs, bundles } = g;
    this.rows.set(placementGroupId, structuredClone({ placementGroupId, name, strategy, state, jobId, detached, createdAtMs, removedAtMs, bundles }));
  }
  saveSoon(g: PlacementGroupRecord): Promise<void> {
    try {
      this.save(g);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
  removeMany(placementGroupIds: string[], atMs: number): void {
    for (const id of placementGroupIds) Object.assign(this.rows.get(id)!, { state: 'REMOVED', removedAtMs: atMs });
  }
}

class FakeNodes extends EventEmitter<{ nodeDead: [NodeRecord]; nodeAdded: [NodeRecord] }> {
  private readonly nodes = new Map<string, LiveNode>();
  add(nodeId: string, port: number, total: ResourceMap, announce = true): void {
    const record: NodeRecord = {
      nodeId, nodeIp: '10.0.0.1', rayletPort: port, hostname: nodeId, isHead: false, state: 'NODE_ALIVE', resourcesTotal: total, labels: {},
      startTimeMs: 0, deathTimeMs: 0, deathCause: '', deathReason: '', rayletPid: 1, sessionName: 's', version: '0', metricsExportPort: 0,
    };
    this.nodes.set(nodeId, { record, total: { ...total }, available: { ...total }, demands: [], lastSeenMs: 0 });
    if (announce) this.emit('nodeAdded', record);
  }
  kill(nodeId: string): void {
    const live = this.nodes.get(nodeId)!;
    this.nodes.delete(nodeId);
    this.emit('nodeDead', { ...live.record, state: 'NODE_DEAD' });
  }
  alive(): LiveNode[] {
    return [...this.nodes.values()];
  }
  get(nodeId: string): LiveNode | undefined {
    return this.nodes.get(nodeId);
  }
  updateResources(nodeId: string, total: ResourceMap, available: ResourceMap): void {
    const live = this.nodes.get(nodeId);
    if (live) Object.assign(live, { total: { ...total }, available: { ...available } });
  }
  shiftGroupResources(): void {}
}

/** A raylet's bundle bookkeeping: prepared and committed bundles hold resources until cancelled or returned. */
class FakeRaylet {
  readonly calls: BundleOperation[] = [];
  readonly held = new Map<string, ResourceMap>();
  /** Operations that fail for every group in the call. */
  failing = new Set<BundleOperation>();
  constructor(readonly total: ResourceMap, readonly available: ResourceMap = { ...total }) {}

  async bundles(operation: BundleOperation, _nodeId: string, bundles: BundleSpec__Output[]): Promise<BundlesReply__Output> {
    this.calls.push(operation);
    const reply = (failures: { placementGroupId: string; reason: string }[] = []): BundlesReply__Output =>
      ({ success: failures.length === 0, reason: '', total: { ...this.total }, available: { ...this.available }, failures });
    if (this.failing.has(operation)) return reply(bundles.map((b) => ({ placementGroupId: b.placementGroupId, reason: `${operation} refused` })));
    const key = (b: BundleSpec__Output) => `${b.placementGroupId}/${b.bundleIndex}`;
    if (operation === 'PrepareBundles' || operation === 'ReserveBundles') {
      const need: ResourceMap = {};
      for (const b of bundles) for (const [k, v] of Object.entries(b.resources)) need[k] = (need[k] ?? 0) + Number(v);
      if (Object.entries(need).some(([k, v]) => (this.available[k] ?? 0) < v)) {
        return reply(bundles.map((b) => ({ placementGroupId: b.placementGroupId, reason: 'not enough resources' })));
      }
      for (const [k, v] of Object.entries(need)) this.available[k]! -= v;
      for (const b of bundles) this.held.set(key(b), Object.fromEntries(Object.entries(b.resources).map(([k, v]) => [k, Number(v)])));
    } else if (operation === 'CancelBundles' || operation === 'ReturnBundles') {
      for (const b of bundles) {
        const r = this.held.get(key(b));
        if (!r) continue;
        for (const [k, v] of Object.entries(r)) this.available[k] = (this.available[k] ?? 0) + v;
        this.held.delete(key(b));
      }
    }
    return reply();
  }
}

describe('PlacementGroupManager', () => {
  let manager: PlacementGroupManager | undefined;
  afterEach(() => manager?.stop());

  function setUp(nodeTotals: ResourceMap[]) {
    const nodes = new FakeNodes();
    const raylets = new Map<string, FakeRaylet>();
    nodeTotals.forEach((total, i) => {
      nodes.add(`node${i}`, 1000 + i, total, false);
      raylets.set(`10.0.0.1:${1000 + i}`, new FakeRaylet(total));
    });
    const table = new FakeTable();
    const reservations = new BundleReservations({
      nodes, config, logger: nullLogger,
      raylets: { get: (address) => raylets.get(address) ?? new FakeRaylet({}) },
    });
    const writes = new DeferredWrites({ logger: nullLogger, retryMs: 20, logIntervalMs: 60_000 });
    manager = new PlacementGroupManager({ table, nodes, reservations, config, logger: nullLogger, writes });
    manager.start();
    const join = (i: number, total: ResourceMap) => {
      raylets.set(`10.0.0.1:${1000 + i}`, new FakeRaylet(total));
      nodes.add(`node${i}`, 1000 + i, total);
    };
    return { manager, nodes, raylets, table, reservations, join, writes, raylet: (i: number) => raylets.get(`10.0.0.1:${1000 + i}`)! };
  }

  let seq = 0;
  function request(bundles: ResourceMap[], strategy: CreateRequest['strategy'] = 'PACK', name = ''): CreateRequest {
    seq += 1;
    return { placementGroupId: seq.toString(16).padStart(36, '0'), name, strategy, bundles, jobId: 'job1', detached: false };
  }

  /** Long-polls the group until it is CREATED (or the wait runs out). */
  async function created(m: PlacementGroupManager, g: PlacementGroup, ms = 2000): Promise<PlacementGroup> {
    const deadline = Date.now() + ms;
    let now = m.get(g.placementGroupId)!;
    while (now.state !== 'CREATED' && Date.now() < deadline) {
      now = (await m.waitForVersion(g.placementGroupId, '', now.version + 1, deadline - Date.now()))!;
    }
    return now;
  }

  it('a group that fits one node is reserved there in one call and becomes CREATED', async () => {
    const { manager: m, raylet, table } = setUp([{ CPU: 4 }]);
    const [g] = m.createMany([request([{ CPU: 1 }, { CPU: 2 }], 'STRICT_PACK')]) as PlacementGroup[];
    const done = await created(m, g!);
    expect(done.state).toBe('CREATED');
    expect(done.bundles.map((b) => b.nodeId)).toEqual(['node0', 'node0']);
    expect(raylet(0).calls).toEqual(['ReserveBundles']);
    expect(raylet(0).available).toEqual({ CPU: 1 });
    expect(table.rows.get(g!.placementGroupId)!.state).toBe('CREATED');
  });

  it('a group over several nodes is prepared on all, then committed on all', async () => {
    const { manager: m, raylet, reservations } = setUp([{ CPU: 1 }, { CPU: 1 }]);
    const [g] = m.createMany([request([{ CPU: 1 }, { CPU: 1 }], 'STRICT_SPREAD')]) as PlacementGroup[];
    const done = await created(m, g!);
    expect(done.state).toBe('CREATED');
    expect(new Set(done.bundles.map((b) => b.nodeId))).toEqual(new Set(['node0', 'node1']));
    for (const i of [0, 1]) expect(raylet(i).calls).toEqual(['PrepareBundles', 'CommitBundles']);
    expect(reservations.leasingState(g!.placementGroupId)).toBeUndefined();
  });

  it('a failed commit cancels on every node and the group waits (PENDING), holding nothing', async () => {
    const { manager: m, raylet } = setUp([{ CPU: 1 }, { CPU: 1 }]);
    raylet(1).failing.add('CommitBundles');
    const [g] = m.createMany([request([{ CPU: 1 }, { CPU: 1 }], 'STRICT_SPREAD')]) as PlacementGroup[];
    const now = (await m.waitForVersion(g!.placementGroupId, '', g!.version + 1, 150))!;
    expect(now.state).toBe('PENDING');
    expect(now.pendingReason).toMatch(/CommitBundles refused/);
    expect(raylet(0).calls.slice(0, 3)).toEqual(['PrepareBundles', 'CommitBundles', 'CancelBundles']);
    expect(raylet(1).calls.slice(0, 3)).toEqual(['PrepareBundles', 'CommitBundles', 'CancelBundles']);
    expect(raylet(0).held.size + raylet(1).held.size).toBe(0);
  });

  it('an infeasible group waits, shows in pending demands, and is placed when a node that fits joins', async () => {
    const { manager: m, join } = setUp([{ CPU: 2 }]);
    const [g] = m.createMany([request([{ GPU: 1 }])]) as PlacementGroup[];
    const waiting = (await m.waitForVersion(g!.placementGroupId, '', g!.version + 1, 150))!;
    expect(waiting.state).toBe('PENDING');
    expect(waiting.infeasible).toBe(true);
    expect(m.pendingDemands()).toMatchObject([{ kind: 'placement_group', count: 1, infeasible: true }]);
    join(1, { CPU: 1, GPU: 1 });
    const done = await created(m, g!);
    expect(done.state).toBe('CREATED');
    expect(done.bundles[0]!.nodeId).toBe('node1');
    expect(m.pendingDemands()).toEqual([]);
  });

  it('a node dies while the table cannot be written: the group stays as written, and its bundles are placed again once there is room', async () => {
    const { manager: m, nodes, table, join, writes } = setUp([{ CPU: 1 }]);
    const [g] = m.createMany([request([{ CPU: 1 }])]) as PlacementGroup[];
    expect((await created(m, g!)).bundles[0]!.nodeId).toBe('node0');
    table.full = true;
    nodes.kill('node0');
    expect(writes.waiting).toBe(1);
    expect(m.get(g!.placementGroupId)).toMatchObject({ state: 'CREATED', bundles: [{ nodeId: 'node0' }] });
    expect(table.rows.get(g!.placementGroupId)).toMatchObject({ state: 'CREATED', bundles: [{ nodeId: 'node0' }] });
    join(1, { CPU: 1 });
    table.full = false;
    expect(await pollUntil(() => m.get(g!.placementGroupId)!.bundles[0]!.nodeId === 'node1' && m.get(g!.placementGroupId)!.state === 'CREATED', 5000)).toBe(true);
    expect(table.rows.get(g!.placementGroupId)).toMatchObject({ state: 'CREATED', bundles: [{ nodeId: 'node1' }] });
    expect(writes.waiting).toBe(0);
  });

  it('a placement the table cannot record keeps the group out of placement (its bundles stay held) until it is written', async () => {
    const { manager: m, table, raylet, writes } = setUp([{ CPU: 2 }]);
    const [g] = m.createMany([request([{ CPU: 1 }])]) as PlacementGroup[];
    table.full = true;
    expect(await pollUntil(() => writes.waiting === 1, 5000)).toBe(true);
    expect(m.get(g!.placementGroupId)).toMatchObject({ state: 'PENDING', placing: true });
    expect(table.rows.get(g!.placementGroupId)!.state).toBe('PENDING');
    expect(raylet(0).calls).toEqual(['ReserveBundles']);
    table.full = false;
    expect((await created(m, g!)).bundles[0]!.nodeId).toBe('node0');
    expect(table.rows.get(g!.placementGroupId)).toMatchObject({ state: 'CREATED', bundles: [{ nodeId: 'node0' }] });
    expect(raylet(0).calls).toEqual(['ReserveBundles']);
  });

  it('remove returns the bundles to their raylet and frees the name', async () => {
    const { manager: m, raylet } = setUp([{ CPU: 2 }]);
    const [g] = m.createMany([request([{ CPU: 2 }], 'PACK', 'trainers')]) as PlacementGroup[];
    await created(m, g!);
    expect(raylet(0).available).toEqual({ CPU: 0 });
    expect(await m.removeMany([g!.placementGroupId, g!.placementGroupId, 'f'.repeat(36)])).toEqual([true, false, false]);
    expect(raylet(0).calls).toContain('ReturnBundles');
    expect(raylet(0).available).toEqual({ CPU: 2 });
    expect(m.get(g!.placementGroupId)!.state).toBe('REMOVED');
    expect(m.get('', 'trainers')).toBeUndefined();
    const [again] = m.createMany([request([{ CPU: 2 }], 'PACK', 'trainers')]) as PlacementGroup[];
    expect((await created(m, again!)).state).toBe('CREATED');
  });

  it('a name held by a live group is refused with NameTakenError, an AlreadyExistsError', () => {
    const { manager: m } = setUp([{ CPU: 1 }]);
    const [first, second] = m.createMany([request([{ CPU: 1 }], 'PACK', 'x'), request([{ CPU: 1 }], 'PACK', 'x')]);
    expect(first).not.toBeInstanceOf(Error);
    expect(second).toBeInstanceOf(NameTakenError);
    expect(second).toBeInstanceOf(AlreadyExistsError);
    expect((second as Error).message).toBe(`a placement group named 'x' already exists (${(first as PlacementGroup).placementGroupId})`);
  });
});
