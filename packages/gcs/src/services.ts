/** gRPC handlers of the head: requests arrive checked by their schemas (request_schemas.ts); the handlers hand over to the managers. */
import * as grpc from '@grpc/grpc-js';
import {
  PROTOCOL_VERSION, RAYTS_VERSION, RpcError, VERSION_MISMATCH_PREFIX, unary,
  type Logger, type NodeInfo__Output, type ResourceMap, raytsProto, withRequestSchemas,
} from '@rayts/common';
import { clusterServiceSchemas, kvServiceSchemas, nodeServiceSchemas } from './request_schemas.js';
import type { LiveNode } from './node_manager.js';
import type { NodeRecord } from './storage/node_table.js';
import type { HeadState } from './head_state.js';

/** What the handlers use: the head's state (shared with the HTTP API server) and the head's log. */
export interface HeadContext extends HeadState {
  logger: Logger;
}


/** A resource map of a request as numbers (the request schema has checked every amount). */
function numericResources(map: Record<string, number | string>): ResourceMap {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, Number(v)]));
}

export function toNodeInfo(record: NodeRecord, live?: LiveNode): NodeInfo__Output {
  return {
    nodeId: record.nodeId, nodeIp: record.nodeIp, rayletPort: record.rayletPort, hostname: record.hostname,
    isHead: record.isHead, state: record.state, resourcesTotal: live?.total ?? record.resourcesTotal,
    resourcesAvailable: live?.available ?? {}, labels: record.labels, startTimeMs: record.startTimeMs,
    deathTimeMs: record.deathTimeMs, deathCause: record.deathCause || 'NODE_DEATH_CAUSE_UNSPECIFIED', deathReason: record.deathReason,
    rayletPid: record.rayletPid, sessionName: record.sessionName, version: record.version,
    lastSeenAgoMs: live ? Date.now() - live.lastSeenMs : 0, nodeVersion: record.nodeVersion ?? '',
  };
}

export function addHeadServices(server: grpc.Server, ctx: HeadContext): void {
  const proto = raytsProto();
  const { logger, nodes } = ctx;
  const clusterInfo = () => ({
    clusterId: ctx.identity.clusterId, sessionName: ctx.sessionName, version: RAYTS_VERSION, protocolVersion: PROTOCOL_VERSION,
    createdAtMs: ctx.identity.createdAtMs, headStartedAtMs: ctx.startedAtMs, gcsAddress: ctx.gcsAddress,
  });

  server.addService(proto.ClusterService.service, withRequestSchemas(proto.ClusterService.service, clusterServiceSchemas, {
    GetClusterInfo: unary(logger, 'GetClusterInfo', () => clusterInfo()),
    GetClusterStatus: unary(logger, 'GetClusterStatus', () => ({
      cluster: clusterInfo(),
      nodes: [
        ...nodes.alive().map((n) => toNodeInfo(n.record, n)),
        ...nodes.deadNodes(ctx.config.statusRecentFailures).map((r) => toNodeInfo(r)),
      ],
      pendingDemands: [...nodes.pendingDemands(), ...ctx.actors.demands(), ...(ctx.placementGroups?.pendingDemands() ?? [])],
      nowMs: Date.now(),
    })),
  }));

  server.addService(proto.NodeService.service, withRequestSchemas(proto.NodeService.service, nodeServiceSchemas, {
    RegisterNode: unary(logger, 'RegisterNode', (req) => {
      if (req.protocolVersion !== PROTOCOL_VERSION) {
        logger.warn('refused a node with another protocol version', { theirs: req.protocolVersion, ours: PROTOCOL_VERSION });
        throw new RpcError(grpc.status.FAILED_PRECONDITION,
          `${VERSION_MISMATCH_PREFIX}: the joining node speaks rayts protocol ${req.protocolVersion} (${req.node?.version || 'unknown release'}), the head speaks protocol ${PROTOCOL_VERSION} (rayts ${RAYTS_VERSION})`);
      }
      if (req.clusterId && req.clusterId !== ctx.identity.clusterId) {
        logger.warn('refused a node of another cluster', { theirs: req.clusterId });
        throw new RpcError(grpc.status.FAILED_PRECONDITION,
          `this node belongs to cluster ${req.clusterId}, but the head at ${ctx.gcsAddress} is cluster ${ctx.identity.clusterId}`);
      }
      const n = req.node!; // the request schema checked it (and every field below)
      const record: NodeRecord = {
        nodeId: n.nodeId, nodeIp: n.nodeIp, rayletPort: n.rayletPort, hostname: n.hostname.slice(0, 255), isHead: n.isHead,
        state: 'NODE_ALIVE', resourcesTotal: numericResources(n.resourcesTotal), labels: n.labels,
        startTimeMs: Number(n.startTimeMs) || Date.now(), deathTimeMs: 0, deathCause: '', deathReason: '',
        rayletPid: n.rayletPid, sessionName: n.sessionName, version: n.version, metricsExportPort: req.metricsExportPort,
        nodeVersion: n.nodeVersion.slice(0, 64),
      };
      const outcome = nodes.register(record);
      if (!outcome.ok) throw new RpcError(grpc.status.FAILED_PRECONDITION, outcome.reason);
      // What ended on the node while the head could not hear of it (a head restart, a lost link).
      if (outcome.reregistered) ctx.actors.reconcileNode(n.nodeId, req.liveActorIds, req.liveJobIds);
      ctx.jobSubmissions.reconcileNode(n.nodeId, req.jobDrivers);
      return { clusterId: ctx.identity.clusterId, sessionName: ctx.sessionName };
    }),
    ReportResources: unary(logger, 'ReportResources', (req) => {
      if (req.clusterId && req.clusterId !== ctx.identity.clusterId) {
        return { reregister: false, nodeDead: true, reason: `the head at ${ctx.gcsAddress} is another cluster (${ctx.identity.clusterId})`, clusterView: [] };
      }
      const outcome = nodes.report(req.nodeId, numericResources(req.resourcesAvailable), req.pendingDemands,
        numericResources(req.resourcesTotal));
      if (outcome === 'dead') return { reregister: false, nodeDead: true, reason: nodes.deathReason(req.nodeId), clusterView: [] };
      return {
        reregister: outcome === 'unknown', nodeDead: false, reason: '',
        clusterView: nodes.alive().map((n) => ({
          nodeId: n.record.nodeId, nodeIp: n.record.nodeIp, rayletPort: n.record.rayletPort,
          total: n.total, available: n.available, labels: n.record.labels,
        })),
        // The jobs whose runtime env the node holds and that have ended: it releases them.
        finishedJobIds: req.envJobIds.slice(0, 10_000).filter((id: string) => !ctx.jobs.isRunning(id)),
      };
    }),
    UnregisterNode: unary(logger, 'UnregisterNode', (req) => {
      // Out of order (never registered, or dead already): nothing changes.
      if (!nodes.get(req.nodeId)) throw new RpcError(grpc.status.NOT_FOUND, `no live node ${req.nodeId} is registered (unknown, or dead already)`);
      nodes.markDead(req.nodeId, 'NODE_DEATH_EXPECTED', req.reason.slice(0, 500) || 'stopped');
      return {};
    }),
    ListNodes: unary(logger, 'ListNodes', (req) => ({
      nodes: [
        ...nodes.alive().map((n) => toNodeInfo(n.record, n)),
        ...(req.includeDead ? nodes.deadNodes(ctx.config.deadNodesKept).map((r) => toNodeInfo(r)) : []),
      ],
    })),
  }));

  server.addService(proto.KvService.service, withRequestSchemas(proto.KvService.service, kvServiceSchemas, {
    KvPut: unary(logger, 'KvPut', (req) => {
      return { added: ctx.kv.put(req.namespace, req.key, req.value, req.overwrite) };
    }),
    KvGet: unary(logger, 'KvGet', (req) => {
      const value = ctx.kv.get(req.namespace, req.key);
      return { found: value !== undefined, value: value ?? Buffer.alloc(0) };
    }),
    KvDel: unary(logger, 'KvDel', (req) => {
      return { deleted: ctx.kv.del(req.namespace, req.key) };
    }),
    KvKeys: unary(logger, 'KvKeys', (req) => ({ keys: ctx.kv.keys(req.namespace, req.prefix) })),
  }));
}
