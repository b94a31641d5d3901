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

  it('let a node of another protocol version through to the handler, which names both versions', () => {
    expect(v.problemOf(nodeServiceSchemas.RegisterNode, { protocolVersion: PROTOCOL_VERSION + 98, node: null })).toBeUndefined();
    expect(v.problemOf(nodeServiceSchemas.RegisterNode, { protocolVersion: PROTOCOL_VERSION, node: null })).toBe('node is required, got nothing');
  });
});
