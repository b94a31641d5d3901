import { afterEach, beforeEach, describe, it, expect, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nullLogger, type ResourceDemand__Output } from '@rayts/common';
import { NodeManager } from './node_manager.js';
import { openDatabase, type Db } from './storage/database.js';
import { NodeTable, type NodeRecord } from './storage/node_table.js';
import { StateDiskFullError } from './errors.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-test-'));
  db = openDatabase(dir);
});
afterEach(() => {
  vi.restoreAllMocks();
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let nextPort = 40000;
function node(id: string, overrides: Partial<NodeRecord> = {}): NodeRecord {
  return {
    nodeId: id, nodeIp: '10.0.0.1', rayletPort: nextPort++, hostname: `host-${id}`, isHead: false, state: 'NODE_ALIVE',
    resourcesTotal: { CPU: 4, memory: 1024 }, labels: { zone: 'a' }, startTimeMs: 1000, deathTimeMs: 0, deathCause: '',
    deathReason: '', rayletPid: 123, sessionName: 'session_x', version: '0.1.0', metricsExportPort: 0, ...overrides,
  };
}

function manager(kept = 1000): NodeManager {
  return new NodeManager(new NodeTable(db, kept), nullLogger);
}

/** Closes the database and opens it again, as a head restart does. */
function restart(kept = 1000): NodeManager {
  db.close();
  db = openDatabase(dir);
  return manager(kept);
}

function demand(shape: Record<string, number>, count: number, kind = 'task', strategy = 'DEFAULT'): ResourceDemand__Output {
  return { shape, count, kind, strategy, infeasible: false };
}

describe('NodeManager', () => {
  it('registers a node as alive and persists it', () => {
    const nm = manager();
    const added: NodeRecord[] = [];
    nm.on('nodeAdded', (r) => added.push(r));
    const n = node('n1');
    expect(nm.register(n)).toEqual({ ok: true, reregistered: false });
    expect(nm.alive().map((l) => l.record.nodeId)).toEqual(['n1']);
    expect(nm.get('n1')?.available).toEqual(n.resourcesTotal);
    expect(added.map((r) => r.nodeId)).toEqual(['n1']);
    expect(new NodeTable(db, 1000).all()).toEqual([n]);
    expect(nm.report('n1', { CPU: 2 }, [])).toBe('ok');
    expect(nm.get('n1')?.available).toEqual({ CPU: 2 });
  });

  it('keeps each raylet\'s metrics port across a head restart (the discovery file lists it again)', () => {
    manager().register(node('n1', { metricsExportPort: 9101 }));
    const after = restart();
    expect(after.get('n1')?.record.metricsExportPort).toBe(9101);
    // A re-registration may bring another port (the raylet restarted its endpoint).
    after.register(node('n1', { metricsExportPort: 9102 }));
    expect(restart().get('n1')?.record.metricsExportPort).toBe(9102);
  });

  it('re-registering keeps the first start time and does not announce the node again', () => {
    const nm = manager();
    let added = 0;
    nm.on('nodeAdded', () => { added += 1; });
    const n = node('n1', { startTimeMs: 1000 });
    nm.register(n);
    nm.report('n1', { CPU: 1 }, []);
    expect(nm.register({ ...n, startTimeMs: 5000, rayletPid: 456 })).toEqual({ ok: true, reregistered: true });
    expect(added).toBe(1);
    expect(nm.get('n1')?.record.startTimeMs).toBe(1000);
    expect(nm.get('n1')?.record.rayletPid).toBe(456);
    expect(nm.get('n1')?.available).toEqual({ CPU: 1 });
    expect(nm.alive()).toHaveLength(1);
  });

  it('answers unknown for a report from a node it never saw', () => {
    const nm = manager();
    expect(nm.report('nobody', { CPU: 1 }, [])).toBe('unknown');
    expect(nm.alive()).toEqual([]);
  });

  it('markDead makes reports answer dead and survives a restart', () => {
    const nm = manager();
    const dead: NodeRecord[] = [];
    nm.on('nodeDead', (r) => dead.push(r));
    nm.register(node('gone'));
    nm.register(node('stays'));
    nm.markDead('gone', 'NODE_DEATH_HEALTH_CHECK_FAILED', 'missed 5 health checks');
    expect(nm.report('gone', {}, [])).toBe('dead');
    expect(nm.deathReason('gone')).toBe('missed 5 health checks');
    expect(dead.map((r) => [r.nodeId, r.state, r.deathCause])).toEqual([['gone', 'NODE_DEAD', 'NODE_DEATH_HEALTH_CHECK_FAILED']]);
    expect(nm.alive().map((l) => l.record.nodeId)).toEqual(['stays']);
    nm.markDead('gone', 'NODE_DEATH_EXPECTED', 'again'); // already dead: no-op
    expect(dead).toHaveLength(1);

    const after = restart();
    expect(after.report('gone', {}, [])).toBe('dead');
    expect(after.alive().map((l) => l.record.nodeId)).toEqual(['stays']);
    // Availability is soft state: until the first report it is assumed to be the total.
    expect(after.get('stays')?.available).toEqual({ CPU: 4, memory: 1024 });
    // A node loaded from the table must register again first (saying what still runs there).
    expect(after.report('stays', { CPU: 3 }, [])).toBe('unknown');
    expect(after.register(node('stays'))).toEqual({ ok: true, reregistered: true });
    expect(after.report('stays', { CPU: 3 }, [])).toBe('ok');
    const [record] = after.deadNodes(10);
    expect(record).toMatchObject({
      nodeId: 'gone', state: 'NODE_DEAD', deathCause: 'NODE_DEATH_HEALTH_CHECK_FAILED', deathReason: 'missed 5 health checks',
    });
    expect(record!.deathTimeMs).toBeGreaterThan(0);
    const row = db.prepare('SELECT state, death_reason FROM nodes WHERE node_id = ?').get('gone');
    expect(row).toEqual({ state: 'NODE_DEAD', death_reason: 'missed 5 health checks' });
  });

  it('a new raylet at the address of a live node replaces it', () => {
    const nm = manager();
    const dead: string[] = [];
    nm.on('nodeDead', (r) => dead.push(r.nodeId));
    nm.register(node('old', { nodeIp: '10.0.0.9', rayletPort: 7000 }));
    nm.register(node('elsewhere', { nodeIp: '10.0.0.9', rayletPort: 7001 }));
    expect(nm.register(node('new', { nodeIp: '10.0.0.9', rayletPort: 7000 }))).toEqual({ ok: true, reregistered: false });
    expect(dead).toEqual(['old']);
    expect(nm.report('old', {}, [])).toBe('dead');
    expect(nm.deathReason('old')).toContain('replaced');
    expect(nm.deadNodes(10)[0]?.deathCause).toBe('NODE_DEATH_UNEXPECTED');
    expect(nm.alive().map((l) => l.record.nodeId).sort()).toEqual(['elsewhere', 'new']);
    expect(restart().report('old', {}, [])).toBe('dead');
  });

  it('refuses to register a node that was declared dead, also after a restart', () => {
    const nm = manager();
    nm.register(node('n1'));
    nm.markDead('n1', 'NODE_DEATH_HEALTH_CHECK_FAILED', 'missed health checks');
    const outcome = nm.register(node('n1'));
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.reason).toContain('n1');
    expect(!outcome.ok && outcome.reason).toContain('missed health checks');
    expect(nm.alive()).toEqual([]);
    expect(restart().register(node('n1')).ok).toBe(false);
    expect(db.prepare('SELECT state FROM nodes WHERE node_id = ?').get('n1')).toEqual({ state: 'NODE_DEAD' });
  });

  it('pendingDemands merges equal shapes by summing counts', () => {
    const nm = manager();
    nm.register(node('a'));
    nm.register(node('b'));
    nm.report('a', {}, [demand({ CPU: 1 }, 2), demand({ GPU: 1, CPU: 2 }, 1)]);
    nm.report('b', {}, [demand({ CPU: 1 }, 3), demand({ CPU: 2, GPU: 1 }, 4), demand({ CPU: 1 }, 5, 'actor'), demand({ CPU: 1 }, 7, 'task', 'SPREAD')]);
    const byKey = (d: ResourceDemand__Output) => `${d.kind}/${d.strategy}/${JSON.stringify(Object.entries(d.shape).sort())}`;
    const merged = nm.pendingDemands();
    expect(Object.fromEntries(merged.map((d) => [byKey(d), d.count]))).toEqual({
      'task/DEFAULT/[["CPU",1]]': 5,
      'task/DEFAULT/[["CPU",2],["GPU",1]]': 5,
      'actor/DEFAULT/[["CPU",1]]': 5,
      'task/SPREAD/[["CPU",1]]': 7,
    });
    expect(merged).toHaveLength(4);
    // Merging must not change what the nodes reported: a second call gives the same answer.
    expect(nm.pendingDemands()).toEqual(merged);
    expect(nm.get('a')?.demands.map((d) => d.count)).toEqual([2, 1]);
  });

  it('pendingDemands forgets the demands of a node that died', () => {
    const nm = manager();
    nm.register(node('a'));
    nm.report('a', {}, [demand({ CPU: 1 }, 2)]);
    nm.markDead('a', 'NODE_DEATH_EXPECTED', 'stopped');
    expect(nm.pendingDemands()).toEqual([]);
  });

  it('keeps only the newest deadNodesKept dead rows', () => {
    let now = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const nm = manager(2);
    for (const id of ['d1', 'd2', 'd3', 'd4', 'live']) nm.register(node(id));
    for (const id of ['d1', 'd2', 'd3', 'd4']) {
      now += 1000;
      nm.markDead(id, 'NODE_DEATH_EXPECTED', `stopped ${id}`);
    }
    const rows = new NodeTable(db, 2).all();
    expect(rows.filter((r) => r.state === 'NODE_DEAD').map((r) => r.nodeId).sort()).toEqual(['d3', 'd4']);
    expect(rows.filter((r) => r.state === 'NODE_ALIVE').map((r) => r.nodeId)).toEqual(['live']);

    const after = restart(2);
    expect(after.deadNodes(10).map((r) => r.nodeId)).toEqual(['d4', 'd3']);
    expect(after.alive().map((l) => l.record.nodeId)).toEqual(['live']);
  });

  it('markDead on a full state disk throws and changes nothing (the node stays alive, nobody hears of a death); it goes through once there is room', () => {
    let full = true;
    const table = new (class extends NodeTable {
      override markDead(...args: Parameters<NodeTable['markDead']>): void {
        if (full) throw new StateDiskFullError('disk is full');
        super.markDead(...args);
      }
    })(db, 1000);
    const nm = new NodeManager(table, nullLogger);
    nm.register(node('n1'));
    const dead: string[] = [];
    nm.on('nodeDead', (r) => dead.push(r.nodeId));
    expect(() => nm.markDead('n1', 'NODE_DEATH_HEALTH_CHECK_FAILED', 'missed health checks')).toThrow(StateDiskFullError);
    expect(nm.get('n1')).toBeDefined();
    expect(nm.deadNodes(10)).toEqual([]);
    expect(dead).toEqual([]);
    full = false;
    nm.markDead('n1', 'NODE_DEATH_HEALTH_CHECK_FAILED', 'missed health checks');
    expect(nm.get('n1')).toBeUndefined();
    expect(dead).toEqual(['n1']);
    expect(restart().deadNodes(10).map((r) => r.nodeId)).toEqual(['n1']);
  });
});
