/**
 * The raylet's RayletService (raylet.proto): health, logs, tasks placed here by other raylets,
 * object pulls and deletes, owner lookups for other nodes, node stats, bundle reservations, and
 * submitted jobs' drivers.
 */
import * as grpc from '@grpc/grpc-js';
import { RpcError, raytsProto, serverStream, unary, withRequestSchemas, type Logger } from '@rayts/common';
import { rayletServiceSchemas } from './request_schemas.js';
import type { ObjectStore } from '@rayts/object-store';
import { listLogs, resolveLogName, streamLog } from './log_service.js';
import { bundleHandlers } from './bundle_service.js';
import type { BundleReservations } from './bundle_reservations.js';
import type { LocalClients } from './local_clients.js';
import type { WorkerPool } from './worker_pool.js';
import { listWorkers } from './worker_listing.js';
import type { ProcessUsage } from './process_usage.js';
import type { HostStats } from './host_stats.js';
import type { ObjectManager } from './object_manager.js';
import type { TaskRouter } from './task_router.js';
import { outcomeToProto, ownedToProto, specFromProto } from './task_proto.js';
import { jobDriverHandlers } from './jobs/job_driver_service.js';
import type { JobDrivers } from './jobs/job_drivers.js';

export interface RayletServiceDeps {
  nodeId: string;
  nodeIp: string;
  logsDir: string;
  router: Pick<TaskRouter, 'accept'>;
  objects: Pick<ObjectManager, 'serve' | 'deleteLocal'>;
  clients: Pick<LocalClients, 'askOwner' | 'toDrivers' | 'collectRefs' | 'list'>;
  workers: Pick<WorkerPool, 'list' | 'exited'>;
  bundles: BundleReservations;
  drivers: Pick<JobDrivers, 'start' | 'stop'>;
  /** The object store as GetNodeStats reports it. */
  store: {
    stats(): ReturnType<ObjectStore['stats']>;
    /** The arena is ordinary memory because shared memory could not be had. */
    fallbackAllocated: boolean;
    /** The arena's pages are all reserved (prefaulted). */
    reserved(): boolean;
    /** What backs the arena: hugetlb, thp or 4k. */
    pageMode: string;
  };
  /** CPU and memory of the worker processes, and of the host, for GetNodeStats (its own readings, apart from the metrics'). */
  usage: Pick<ProcessUsage, 'read'>;
  host: Pick<HostStats, 'cpuUtilizationPercent' | 'cpuCount' | 'memory'>;
  /** How long GetNodeStats waits for the clients' reference lists. */
  memoryInfoTimeoutMs: number;
  /** How often a followed log is checked for new lines. */
  logFollowPollMs: number;
  logger: Logger;
}

function hostUsage(host: RayletServiceDeps['host']) {
  const memory = host.memory();
  return { cpuPercent: host.cpuUtilizationPercent(), numCpus: host.cpuCount(), memoryUsedBytes: memory.used, memoryTotalBytes: memory.total };
}

export function addRayletService(server: grpc.Server, deps: RayletServiceDeps): void {
  const { nodeId, nodeIp, logsDir, router, objects, clients, store, logger } = deps;
  const service = raytsProto().RayletService.service;
  server.addService(service, withRequestSchemas(service, rayletServiceSchemas, {
    HealthCheck: unary(logger, 'HealthCheck', (req) => {
      if (req.nodeId && req.nodeId !== nodeId) {
        throw new RpcError(grpc.status.FAILED_PRECONDITION, `this raylet is node ${nodeId}, not ${req.nodeId}`);
      }
      return { nodeId };
    }),
    ListLogs: unary(logger, 'ListLogs', (req) => ({
      nodeId, nodeIp,
      files: listLogs(logsDir, req.glob.slice(0, 256)).map((f) => ({ name: f.name, size: f.size, modifiedMs: f.modifiedMs, category: f.category })),
    })),
    ExecuteTask: unary(logger, 'ExecuteTask', (req) => new Promise((resolve) => {
      if (!req.task) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'task is required');
      const spec = specFromProto(req.task);
      router.accept({ spec, jobDir: req.jobDir, queuedAt: Date.now(), deliver: (outcome) => resolve(outcomeToProto({ ...outcome, nodeId: outcome.nodeId || nodeId })) });
    })),
    PullObject: serverStream(logger, 'PullObject', async (req, call) => {
      const found = await objects.serve(req.objectId, (chunk) => new Promise((resolve) => {
        if (call.write(chunk)) resolve();
        else call.once('drain', resolve);
      }));
      if (!found) throw new RpcError(grpc.status.NOT_FOUND, `object ${req.objectId} is not on node ${nodeId}`);
    }),
    GetFromOwner: unary(logger, 'GetFromOwner', async (req) => ownedToProto(await clients.askOwner(req.ownerClientId, req.objectId))),
    PublishLogs: unary(logger, 'PublishLogs', (req) => {
      clients.toDrivers(req.jobId, { type: 'logs', jobId: req.jobId, driverNodeId: nodeId, prefix: req.prefix, stream: req.stream === 'stderr' ? 'stderr' : 'stdout', text: req.text });
      return {};
    }),
    GetNodeStats: unary(logger, 'GetNodeStats', async (req) => {
      const st = store.stats();
      const refs = req.includeMemoryInfo ? await clients.collectRefs(deps.memoryInfoTimeoutMs) : [];
      return {
        nodeId, nodeIp,
        store: {
          capacity: st.capacity, used: st.used, numObjects: st.numObjects, primaryBytes: st.primaryBytes, secondaryBytes: st.secondaryBytes,
          numPinned: st.numPinned, spilledBytesTotal: st.spilledBytesTotal, spilledObjectsTotal: st.spilledObjectsTotal,
          restoredBytesTotal: st.restoredBytesTotal, restoredObjectsTotal: st.restoredObjectsTotal,
          spillThroughputMibps: st.spillThroughputMiBps, restoreThroughputMibps: st.restoreThroughputMiBps,
          spilledBytesNow: st.spilledBytes, spilledObjectsNow: st.numSpilled, waitingBytes: 0, fallbackAllocated: store.fallbackAllocated, reserved: store.reserved(), pageMode: store.pageMode,
        },
        refs: refs.flatMap(({ client, refs: held }) => held.map((r) => ({
          objectId: r.objectId, pid: client.pid, workerType: client.role === 'driver' ? 'Driver' : 'Worker', ip: nodeIp,
          size: r.size, referenceType: r.referenceType, callSite: r.callSite, status: r.status, attempt: r.attempt,
        }))),
        workers: req.includeWorkers ? listWorkers(deps.workers, clients, deps.usage) : [],
        host: hostUsage(deps.host),
      };
    }),
    ...bundleHandlers(nodeId, deps.bundles, logger),
    ...jobDriverHandlers(deps.drivers, logger),
    DeleteObjects: unary(logger, 'DeleteObjects', (req) => ({ deleted: objects.deleteLocal(req.objectIds) })),
    StreamLog: serverStream(logger, 'StreamLog', async (req, call) => {
      const path = resolveLogName(logsDir, req.name);
      let cancelled = false;
      call.on('cancelled', () => { cancelled = true; });
      call.on('close', () => { cancelled = true; });
      await streamLog(path, { tail: req.tail, follow: req.follow, range: req.range ? { start: req.startOffset, end: req.endOffset } : undefined }, { write: (c) => call.write(c), cancelled: () => cancelled }, deps.logFollowPollMs, logger);
    }),
  }));
}
