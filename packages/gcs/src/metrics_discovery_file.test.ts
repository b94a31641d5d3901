import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nullLogger, type Logger } from '@rayts/common';
import { NodeManager } from './node_manager.js';
import { openDatabase, type Db } from './storage/database.js';
import { NodeTable, type NodeRecord } from './storage/node_table.js';
import { MetricsDiscoveryFile, metricsDiscoveryPath, type FileSdGroup } from './metrics_discovery_file.js';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-sd-'));
  db = openDatabase(path.join(dir, 'state'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function node(id: string, ip: string, metricsExportPort: number): NodeRecord {
  return {
    nodeId: id.repeat(56), nodeIp: ip, rayletPort: 7000, hostname: 'h', isHead: false, state: 'NODE_ALIVE', resourcesTotal: { CPU: 1 }, labels: {},
    startTimeMs: 1, deathTimeMs: 0, deathCause: '', deathReason: '', rayletPid: 1, sessionName: 's', version: '0', metricsExportPort,
  };
}

const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as FileSdGroup[];

describe('metricsDiscoveryPath', () => {
  it('is in the temp dir, the session dir\'s parent', () => {
    expect(metricsDiscoveryPath('/tmp/rayts/session_2024_1')).toBe('/tmp/rayts/prom_metrics_service_discovery.json');
  });
});

describe('MetricsDiscoveryFile', () => {
  it('lists the alive raylets as they join and die, with the static targets', () => {
    const nodes = new NodeManager(new NodeTable(db, 100), nullLogger);
    nodes.register(node('a', '10.0.0.1', 9101));
    const file = path.join(dir, 'sd.json');
    const sd = new MetricsDiscoveryFile({ nodes, path: file, extraTargets: [{ target: '10.0.0.1:8265', labels: { component: 'head' } }], tls: false, logger: nullLogger });
    sd.start();
    expect(read(file)).toEqual([
      { targets: ['10.0.0.1:9101'], labels: { component: 'raylet' } },
      { targets: ['10.0.0.1:8265'], labels: { component: 'head' } },
    ]);
    nodes.register(node('b', '10.0.0.2', 9101));
    // A raylet that serves no metrics (port 0) is not a target.
    nodes.register(node('c', '10.0.0.3', 0));
    expect(read(file)[0]!.targets).toEqual(['10.0.0.1:9101', '10.0.0.2:9101']);
    nodes.markDead('a'.repeat(56), 'NODE_DEATH_HEALTH_CHECK_FAILED', 'gone');
    expect(read(file)[0]!.targets).toEqual(['10.0.0.2:9101']);
    // No temp file is left behind (each write is a rename).
    expect(fs.readdirSync(dir).filter((f) => f.includes('tmp'))).toEqual([]);
    sd.stop();
    expect(read(file)).toEqual([{ targets: ['10.0.0.1:8265'], labels: { component: 'head' } }]);
    nodes.register(node('d', '10.0.0.4', 9101));
    expect(read(file)).toEqual([{ targets: ['10.0.0.1:8265'], labels: { component: 'head' } }]);
  });

  it('says https for every target when the cluster has TLS, and an empty list with no node', () => {
    const nodes = new NodeManager(new NodeTable(db, 100), nullLogger);
    const file = path.join(dir, 'sd.json');
    const sd = new MetricsDiscoveryFile({ nodes, path: file, extraTargets: [], tls: true, logger: nullLogger });
    sd.start();
    expect(read(file)).toEqual([]);
    nodes.register(node('a', '10.0.0.1', 9101));
    expect(read(file)).toEqual([{ targets: ['10.0.0.1:9101'], labels: { component: 'raylet', __scheme__: 'https' } }]);
    sd.stop();
  });

  it('logs a write it cannot make and goes on', () => {
    const nodes = new NodeManager(new NodeTable(db, 100), nullLogger);
    const warnings: string[] = [];
    const logger: Logger = { ...nullLogger, warn: (m: string) => { warnings.push(m); } };
    const sd = new MetricsDiscoveryFile({ nodes, path: path.join(dir, 'no-such-dir', 'sd.json'), extraTargets: [], tls: false, logger });
    expect(() => sd.start()).not.toThrow();
    expect(() => nodes.register(node('a', '10.0.0.1', 9101))).not.toThrow();
    expect(warnings).toEqual(['could not write the Prometheus service discovery file', 'could not write the Prometheus service discovery file']);
    sd.stop();
  });
});
