import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, raytsProto, v, withRequestSchemas } from '@rayts/common';
import {
  actorServiceSchemas, clusterServiceSchemas, jobServiceSchemas, kvServiceSchemas, nodeServiceSchemas, packageServiceSchemas,
  placementGroupServiceSchemas, taskEventServiceSchemas,
} from './request_schemas.js';

const proto = raytsProto();
const tables = {
  ClusterService: clusterServiceSchemas, NodeService: nodeServiceSchemas, KvService: kvServiceSchemas, JobService: jobServiceSchemas,
  PackageService: packageServiceSchemas, PlacementGroupService: placementGroupServiceSchemas, TaskEventService: taskEventServiceSchemas,
  ActorService: actorServiceSchemas,
};

describe('the head\'s request schemas', () => {
  it('cover every method of every head service', () => {
    for (const [service, table] of Object.entries(tables)) {
      const def = proto[service as keyof typeof tables].service;
      const stubs = Object.fromEntries(Object.keys(def).map((m) => [m, () => undefined]));
      expect(() => withRequestSchemas(def, table, stubs), service).not.toThrow();
    }
  });

  it('refuse the hostile reports that corrupted a node\'s view, naming the field', () => {
    const report = { nodeId: 'a'.repeat(56), resourcesAvailable: { CPU: 1 }, pendingDemands: [], clusterId: '', resourcesTotal: { CPU: 1 }, envJobIds: [] };
    expect(v.problemOf(nodeServiceSchemas.ReportResources, report)).toBeUndefined();
    expect(v.problemOf(nodeServiceSchemas.ReportResources, { ...report, resourcesAvailable: { CPU: -Infinity } })).toBe('resources_available.CPU must be a finite number, got -Infinity');
    expect(v.problemOf(nodeServiceSchemas.ReportResources, { ...report, nodeId: 'a'.repeat(55) })).toMatch(/^node_id must be 56 lowercase hex/);
  });

  it('take the resource maps of a node holding many placement-group bundles (four entries a bundle resource), and still bound them', () => {
    const held: Record<string, number> = { CPU: 2, memory: 1e9 };
    for (let g = 0; g < 1000; g++) {
      const id = g.toString(16).padStart(36, '0');
      Object.assign(held, { [`CPU_group_0_${id}`]: 0.001, [`CPU_group_${id}`]: 0.001, [`bundle_group_0_${id}`]: 1000, [`bundle_group_${id}`]: 1000 });
    }
    const report = { nodeId: 'a'.repeat(56), resourcesAvailable: held, pendingDemands: [], clusterId: '', resourcesTotal: held, envJobIds: [] };
    expect(v.problemOf(nodeServiceSchemas.ReportResources, report)).toBeUndefined();
    const node = { nodeId: 'a'.repeat(56), nodeIp: '127.0.0.1', rayletPort: 1, hostname: 'h', isHead: false, resourcesTotal: held, labels: {}, startTimeMs: 1, rayletPid: 1, sessionName: 's', version: '0.1.0', nodeVersion: 'v20' };
    expect(v.problemOf(nodeServiceSchemas.RegisterNode, { protocolVersion: PROTOCOL_VERSION, node, clusterId: '', liveJobIds: [], liveActorIds: [], metricsExportPort: 0, jobDrivers: [] })).toBeUndefined();
    const tooMany = Object.fromEntries(Array.from({ length: v.MAX_NODE_RESOURCE_ENTRIES + 1 }, (_, i) => [`r${i}`, 1]));
    expect(v.problemOf(nodeServiceSchemas.ReportResources, { ...report, resourcesAvailable: tooMany })).toMatch(/resources_available must have at most 65536 entries/);
  });

  it('let a node of another protocol version through to the handler, which names both versions', () => {
    expect(v.problemOf(nodeServiceSchemas.RegisterNode, { protocolVersion: PROTOCOL_VERSION + 98, node: null })).toBeUndefined();
    expect(v.problemOf(nodeServiceSchemas.RegisterNode, { protocolVersion: PROTOCOL_VERSION, node: null })).toBe('node is required, got nothing');
  });
});
