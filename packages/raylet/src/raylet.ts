/** Wires a raylet: resources, gRPC server (health + logs), registration, reports, worker pool. */
import * as grpc from '@grpc/grpc-js';
import { hostname } from 'node:os';
import {
  ActorHostClient, bindSharedPort, createServer, formatAddress, GcsActorClient, GcsClient, newNodeId, RAYTS_VERSION, RpcError, raytsProto, serverStream, unary,
  SessionPaths, writeJson, type ActorSpecMsgOutput, type Config, type Logger, type RayletReady, type TlsFiles,
} from '@rayts/common';
import { detectResources, type ResourceFlags } from './resources_detect.js';
import { listLogs, resolveLogName, streamLog } from './log_service.js';
import { GcsConnection } from './gcs_connection.js';
import { WorkerPool } from './worker_pool.js';
import { LocalScheduler } from './local_scheduler.js';
import { LocalServer, type LocalClient } from './local_server.js';
import { TaskRouter } from './task_router.js';
import { ObjectManager, ObjectLostErrorCode } from './object_manager.js';
import { ObjectStore, Arena } from '@rayts/object-store';
import { prefaultInBackground } from './prefault.js';
import { specFromProto, specToProto, outcomeToProto, outcomeFromProto, ownedToProto, ownedFromProto } from './task_proto.js';
import { ActorWorkers } from './actor_workers.js';
import { OBJECT_TRANSFER_MAGIC, serveObjectTransfer } from './object_transfer.js';
import type { ClientMessage, TaskOutcome } from './scheduler_types.js';
import { BundleReservations } from './bundle_reservations.js';
import { bundleHandlers } from './bundle_service.js';

export interface RayletOptions {
  sessionDir: string;
  gcsAddress: string;
  nodeIp: string;
  port: number;
  token: string;
  flags: Omit<ResourceFlags, 'nodeIp' | 'isHead'>;
  labels: Record<string, string>;
  isHead: boolean;
  config: Config;
  logger: Logger;
  tls?: TlsFiles;
  /** The token file workers read (the token never travels on a command line). */
  tokenFile: string;
  /** Called when the raylet must exit on its own (dead, head gone). */
  onFatal: (reason: string, code: number) => void;
  /** Where primary copies spill (default <session>/spill). */
  spillDir?: string;
}

export interface RunningRaylet {
  nodeId: string;
  port: number;
  stop(reason: string, graceful: boolean): Promise<void>;
}

export async function startRaylet(options: RayletOptions): Promise<RunningRaylet> {
  const { config, logger } = options;
  const paths = new SessionPaths(options.sessionDir);
  const nodeId = newNodeId();
  const detected = await detectResources({ ...options.flags, nodeIp: options.nodeIp, isHead: options.isHead }, config);
  for (const note of detected.notes) logger.warn(note);

  // Reserved in the background (a 7 GB store takes seconds), so the node answers at once.
  const arena = Arena.create({ size: detected.objectStoreBytes, prefault: false });
  if (arena.warning) logger.warn(arena.warning);
  let reserved = !config.objectStorePrefault;
  if (config.objectStorePrefault) prefaultInBackground(arena.procPath, arena.size, logger, () => { reserved = true; });
  const store = new ObjectStore({
    arena, spillDir: options.spillDir ?? paths.spill, spillThreshold: config.objectSpillingThreshold,
    minSpillSize: config.objectSpillingMinBytes > 0 ? config.objectSpillingMinBytes : undefined,
    maxFusedObjects: config.objectSpillingMaxFusedObjects, diskCapacityThreshold: config.localFsCapacityThreshold,
    fullTimeoutMs: config.objectStoreFullTimeoutMs, logger,
  });
  const routerRef: { current?: TaskRouter } = {};
  const objectsRef: { current?: ObjectManager } = {};
  const localRef: { current?: LocalServer } = {};
  const bundlesRef: { current?: BundleReservations } = {};
  const server = createServer({
    token: options.token, logger, maxMessageBytes: config.grpcMaxMessageBytes,
    authFailureLogIntervalMs: config.authFailureLogIntervalMs, tls: options.tls,
  });
  server.addService(raytsProto().RayletService.service, {
    HealthCheck: unary(logger, 'HealthCheck', (req) => {
      if (req.nodeId && req.nodeId !== nodeId) {
        throw new RpcError(grpc.status.FAILED_PRECONDITION, `this raylet is node ${nodeId}, not ${req.nodeId}`);
      }
      return { nodeId };
    }),
    ListLogs: unary(logger, 'ListLogs', (req) => ({
      nodeId, nodeIp: options.nodeIp,
      files: listLogs(paths.logs, req.glob.slice(0, 256)).map((f) => ({ name: f.name, size: f.size, modifiedMs: f.modifiedMs, category: f.category })),
    })),
    ExecuteTask: unary(logger, 'ExecuteTask', (req) => new Promise((resolve) => {
      if (!req.task) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'task is required');
      const spec = specFromProto(req.task);
      if (!routerRef.current) throw new RpcError(grpc.status.UNAVAILABLE, 'the raylet is starting');
      routerRef.current.accept({ spec, jobDir: req.jobDir, queuedAt: Date.now(), deliver: (outcome) => resolve(outcomeToProto({ ...outcome, nodeId: outcome.nodeId || nodeId })) });
    })),
    PullObject: serverStream(logger, 'PullObject', async (req, call) => {
      const found = await objectsRef.current!.serve(req.objectId, (chunk) => new Promise((resolve) => {
        if (call.write(chunk)) resolve();
        else call.once('drain', resolve);
      }));
      if (!found) throw new RpcError(grpc.status.NOT_FOUND, `object ${req.objectId} is not on node ${nodeId}`);
    }),
    GetFromOwner: unary(logger, 'GetFromOwner', async (req) => ownedToProto(await localRef.current?.askOwner(req.ownerClientId, req.objectId))),
    PublishLogs: unary(logger, 'PublishLogs', (req) => {
      localRef.current?.toDrivers(req.jobId, { type: 'logs', jobId: req.jobId, driverNodeId: nodeId, prefix: req.prefix, stream: req.stream === 'stderr' ? 'stderr' : 'stdout', text: req.text });
      return {};
    }),
    GetNodeStats: unary(logger, 'GetNodeStats', async (req) => {
      const st = store.stats();
      const clients = req.includeMemoryInfo ? await localRef.current!.collectRefs(2000) : [];
      return {
        nodeId, nodeIp: options.nodeIp,
        store: {
          capacity: st.capacity, used: st.used, numObjects: st.numObjects, primaryBytes: st.primaryBytes, secondaryBytes: st.secondaryBytes,
          numPinned: st.numPinned, spilledBytesTotal: st.spilledBytesTotal, spilledObjectsTotal: st.spilledObjectsTotal,
          restoredBytesTotal: st.restoredBytesTotal, restoredObjectsTotal: st.restoredObjectsTotal,
          spillThroughputMibps: st.spillThroughputMiBps, restoreThroughputMibps: st.restoreThroughputMiBps,
          spilledBytesNow: st.spilledBytes, spilledObjectsNow: st.numSpilled, waitingBytes: 0, fallbackAllocated: !!arena.warning, reserved,
        },
        refs: clients.flatMap(({ client, refs }) => refs.map((r) => ({
          objectId: r.objectId, pid: client.pid, workerType: client.role === 'driver' ? 'Driver' : 'Worker', ip: options.nodeIp,
          size: r.size, referenceType: r.referenceType, callSite: r.callSite, status: r.status, attempt: r.attempt,
        }))),
      };
    }),
    ...bundleHandlers(nodeId, () => bundlesRef.current, logger),
    DeleteObjects: unary(logger, 'DeleteObjects', (req) => ({ deleted: objectsRef.current!.deleteLocal(req.objectIds) })),
    StreamLog: serverStream(logger, 'StreamLog', async (req, call) => {
      const path = resolveLogName(paths.logs, req.name);
      let cancelled = false;
      call.on('cancelled', () => { cancelled = true; });
      call.on('close', () => { cancelled = true; });
      await streamLog(path, req.tail, req.follow, { write: (c) => call.write(c), cancelled: () => cancelled }, 200, logger);
    }),
  });
  const actorsRef: { current?: ActorWorkers } = {};
  server.addService(raytsProto().ActorHostService.service, {
    CreateActor: unary(logger, 'CreateActor', async (req) => {
      if (!req.spec) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'spec is required');
      if (!actorsRef.current) throw new RpcError(grpc.status.UNAVAILABLE, 'the raylet is starting');
      return actorsRef.current.create(req.spec, req.numRestarts, req.classDescriptor.length > 0 ? req.classDescriptor : undefined);
    }),
    KillActorWorker: unary(logger, 'KillActorWorker', (req) => ({ found: actorsRef.current?.kill(req.actorId, req.reason.slice(0, 500) || 'killed') ?? false })),
    PushActorTask: unary(logger, 'PushActorTask', async (req) => {
      if (!req.task) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'task is required');
      const outcome = await actorsRef.current!.push(req.actorId, specFromProto(req.task));
      return outcomeToProto({ ...outcome, nodeId: outcome.nodeId || nodeId });
    }),
  });
  // One port: gRPC, and the side channel for bulk object transfer (not with TLS: pulls stay on gRPC).
  const sharedPort = await bindSharedPort(server, options.nodeIp, options.port, options.tls, 'raylet', OBJECT_TRANSFER_MAGIC,
    (socket) => serveObjectTransfer(socket, options.token, (id) => objectsRef.current!.pinForTransfer(id), logger));
  const port = sharedPort.port;
  const address = formatAddress(options.nodeIp, port);

  const cpus = Math.ceil(detected.resources.CPU ?? 0);
  const socketPath = paths.rayletSocket;
  let scheduler: LocalScheduler | undefined;
  const pool = new WorkerPool({
    paths, nodeId, logger, exitGraceMs: config.workerExitGraceMs, socketPath, gcsAddress: options.gcsAddress, tokenFile: options.tokenFile,
    prestart: config.prestartWorkers >= 0 ? config.prestartWorkers : cpus,
    maxStarting: Math.max(1, cpus), maxWorkers: config.maxWorkersPerNode > 0 ? config.maxWorkersPerNode : 4 * Math.max(1, cpus) + 4,
    onExit: (workerId, reason) => {
      if (!actorsRef.current?.onWorkerExit(workerId, reason)) scheduler?.onWorkerGone(workerId, reason);
    },
  });
  scheduler = new LocalScheduler(detected.resources, pool, logger);
  const sched = scheduler;
  bundlesRef.current = new BundleReservations(sched, logger);
  const jobDrivers = new Map<string, number>();
  const local: LocalServer = new LocalServer(socketPath, options.token, {
    type: 'welcome', nodeId, nodeIp: options.nodeIp, arenaPath: arena.procPath, arenaSize: arena.size, arenaSegmentSize: arena.segmentSize,
    maxInlineBytes: config.maxInlineObjectBytes, gcsAddress: options.gcsAddress,
  }, {
    workerConnected: (client: LocalClient, workerId: string) => {
      if (!pool.markConnected(workerId, client.pid)) return false;
      logger.debug('worker connected', { workerId, pid: client.pid });
      sched.addWorker({ workerId, pid: client.pid, blocked: false, send: (m) => client.conn.send(m) });
      return true;
    },
    driverConnected: (client) => {
      jobDrivers.set(client.jobId, (jobDrivers.get(client.jobId) ?? 0) + 1);
      logger.info('driver connected', { jobId: client.jobId, pid: client.pid });
    },
    disconnected: (client) => {
      objects.clientGone(client.clientId);
      if (client.role === 'worker') {
        // Usually the process is exiting: its exit (with the code or signal) fails the running task.
        // A worker that closed the connection but lives on is killed, which leads to the same path.
        setTimeout(() => pool.killWorker(client.clientId, 'closed its raylet connection'), 1000).unref();
        return;
      }
      const left = (jobDrivers.get(client.jobId) ?? 1) - 1;
      if (left > 0) jobDrivers.set(client.jobId, left);
      else {
        jobDrivers.delete(client.jobId);
        sched.onJobGone(client.jobId);
        // A driver that died without shutdown never told the head; its non-detached actors must go.
        // (Idempotent; if the head is out of reach, re-registration reconciles the job.)
        void gcs.finishJob(client.jobId).catch(() => undefined);
      }
      logger.info('driver disconnected', { jobId: client.jobId, pid: client.pid });
    },
    submit: (client, task) => {
      logger.debug('task submitted', { taskId: task.taskId, name: task.name, from: client.clientId });
      const jobDir = client.role === 'driver' ? client.jobDir : (sched.workerList().find((w) => w.workerId === client.clientId)?.running?.jobDir ?? '');
      router.route({
        spec: task, jobDir, queuedAt: Date.now(),
        deliver: (outcome: TaskOutcome) => { local.send(task.owner.clientId, { type: 'taskResult', outcome: { ...outcome, nodeId: outcome.nodeId || nodeId } }); },
      });
    },
    taskDone: (client, outcome) => {
      logger.debug('task done', { taskId: outcome.taskId, worker: client.clientId, failed: outcome.failure?.type });
      if (actors.isActorWorker(client.clientId)) actors.onCallDone(outcome);
      else sched.onTaskDone(client.clientId, outcome);
    },
    actorCreated: (client, m) => actors.onCreated(client.clientId, m.failure),
    actorCall: (client, m) => {
      const deliver = (outcome: TaskOutcome) => local.send(client.clientId, { type: 'taskResult', outcome: { ...outcome, nodeId: outcome.nodeId || m.nodeId } });
      if (m.nodeId === nodeId) { void actors.push(m.task.actorId!, m.task).then(deliver); return; }
      const address = router.addressOf(m.nodeId);
      const failed = (message: string) => deliver({ taskId: m.task.taskId, attempt: m.task.attempt, returnId: m.task.returnId, nodeId: m.nodeId, failure: { type: 'WORKER_DIED', message } });
      if (!address) { failed(`the actor's node ${m.nodeId} is not alive`); return; }
      actorHost(address).pushActorTask(m.task.actorId!, m.workerId, specToProto(m.task))
        .then((o) => deliver(outcomeFromProto(o)), (err: Error) => failed(`the actor's node ${m.nodeId} did not answer: ${err.message}`));
    },
    returnTasks: (client, taskIds) => sched.onTasksReturned(client.clientId, taskIds),
    cancel: (_client, taskId, force) => {
      if (!sched.cancel(taskId, force)) router.cancelInfeasible(taskId);
    },
    blocked: (client, blocked) => (blocked ? sched.onBlocked(client.clientId) : sched.onUnblocked(client.clientId)),
    logs: (_client, m) => {
      if (m.driverNodeId === nodeId || !m.driverNodeId) {
        local.toDrivers(m.jobId, m);
        return;
      }
      const address = router.addressOf(m.driverNodeId);
      if (address) void router.client(address).publishLogs(m.jobId, m.prefix, m.stream, m.text).catch(() => undefined);
    },
    request: (client, m: Extract<ClientMessage, { reqId: number }>) => {
      if (m.type === 'nodeInfo') {
        client.conn.send({ type: 'reply', reqId: m.reqId, ok: true, info: { nodeId, nodeIp: options.nodeIp, resources: detected.resources } });
      } else if (m.type === 'reserveActor') {
        // The local protocol carries the spec in the shape the creator would send the head; what the
        // creation reads of it (args, resources, ids) is the same in both shapes.
        const spec = { ...(m.spec as ActorSpecMsgOutput), ownerClientId: client.clientId };
        const started = actors.reserveForOwner(spec, m.classDescriptor);
        client.conn.send({ type: 'reply', reqId: m.reqId, ok: !!started, info: started });
      } else if (m.type === 'releaseActor') {
        actors.release(m.actorId, 'its creator could not register it with the head');
        client.conn.send({ type: 'reply', reqId: m.reqId, ok: true });
      } else {
        void handleObjectRequest(client, m);
      }
    },
  }, logger);
  await local.listen();
  localRef.current = local;
  const gcsActors = new GcsActorClient(options.gcsAddress, { token: options.token, tls: options.tls, timeoutMs: config.gcsRpcTimeoutMs });
  const actors = new ActorWorkers({
    scheduler: sched, paths, logger, send: (id, m) => local.send(id, m), startWorker: () => pool.startWorker(), refillDelayMs: config.actorPoolRefillDelayMs,
    reservationTimeoutMs: config.actorReservationTimeoutMs,
    markDedicated: (id, socket) => pool.markDedicated(id, socket), killWorker: (id, reason) => pool.killWorker(id, reason),
    reportDeath: (actorId, workerId, reason) => {
      // Lost if the head is down: re-registration reconciles (the actor is missing from live_actor_ids).
      void gcsActors.reportActorDeath(actorId, nodeId, workerId, reason).catch((err: Error) => logger.warn('could not report an actor death', { actorId, error: err.message }));
    },
  });
  actorsRef.current = actors;
  const actorHosts = new Map<string, ActorHostClient>();
  const actorHost = (address: string): ActorHostClient => {
    let c = actorHosts.get(address);
    if (!c) actorHosts.set(address, (c = new ActorHostClient(address, { token: options.token, tls: options.tls, timeoutMs: config.gcsRpcTimeoutMs })));
    return c;
  };
  const clientOptions = { token: options.token, tls: options.tls, timeoutMs: config.gcsRpcTimeoutMs };
  const router = new TaskRouter(nodeId, address, sched, clientOptions, logger);
  routerRef.current = router;
  const objects = new ObjectManager(store, nodeId, (id) => router.addressOf(id), (address) => router.client(address), logger);
  objectsRef.current = objects;
  objects.otherNodes = () => router.otherAddresses();
  if (!options.tls) objects.sideChannelToken = options.token;
  objects.requestGc = () => { for (const c of local.clients.values()) c.conn.send({ type: 'gc' }); };
  async function handleObjectRequest(client: LocalClient, m: Extract<ClientMessage, { reqId: number }>): Promise<void> {
    try {
      switch (m.type) {
        case 'objCreate': {
          const loc = await objects.create(m.objectId, m.size);
          client.conn.send({ type: 'reply', reqId: m.reqId, ok: true, offset: loc.offset, size: loc.size });
          return;
        }
        case 'objSeal':
          objects.seal(m.objectId);
          client.conn.send({ type: 'reply', reqId: m.reqId, ok: true });
          return;
        case 'objGet': {
          const loc = await objects.get(client.clientId, m.objectId, m.nodeId);
          client.conn.send({ type: 'reply', reqId: m.reqId, ok: true, offset: loc.offset, size: loc.size });
          return;
        }
        case 'objRelease':
          objects.release(client.clientId, m.objectIds);
          client.conn.send({ type: 'reply', reqId: m.reqId, ok: true });
          return;
        case 'objDelete':
          await objects.delete(m.objects);
          client.conn.send({ type: 'reply', reqId: m.reqId, ok: true });
          return;
        case 'ownerGet': {
          const state = m.owner.nodeId === nodeId
            ? await local.askOwner(m.owner.clientId, m.objectId)
            : await (async () => {
              const address = router.addressOf(m.owner.nodeId);
              if (!address) return undefined;
              return ownedFromProto(await router.client(address).getFromOwner(m.objectId, m.owner.clientId));
            })();
          if (!state) client.conn.send({ type: 'reply', reqId: m.reqId, ok: false, error: 'the owner is not connected', errorType: 'OwnerDiedError' });
          else client.conn.send({ type: 'reply', reqId: m.reqId, ok: true, info: state });
          return;
        }
        case 'objStats':
          client.conn.send({ type: 'reply', reqId: m.reqId, ok: true, info: store.stats() });
          return;
        default:
          client.conn.send({ type: 'reply', reqId: (m as { reqId: number }).reqId, ok: false, error: `unknown request ${(m as { type: string }).type}` });
      }
    } catch (err) {
      const e = err as Error & { code?: string };
      client.conn.send({ type: 'reply', reqId: m.reqId, ok: false, error: e.message, errorType: e.code === ObjectLostErrorCode ? 'ObjectLostError' : e.name });
    }
  }

  const gcs = new GcsClient(options.gcsAddress, { token: options.token, tls: options.tls, timeoutMs: config.gcsRpcTimeoutMs });
  let stopping = false;
  const stop = async (reason: string, graceful: boolean) => {
    if (stopping) return;
    stopping = true;
    connection.stop();
    logger.info('raylet stopping', { reason });
    if (graceful) await gcs.unregisterNode(nodeId, reason, 2000).catch(() => undefined);
    local.close();
    router.close();
    for (const c of actorHosts.values()) c.close();
    gcsActors.close();
    await pool.stop();
    sharedPort.close();
    server.forceShutdown();
    await store.close?.();
    gcs.close();
  };
  const connection = new GcsConnection({
    client: gcs, config, logger,
    node: {
      nodeId, nodeIp: options.nodeIp, rayletPort: port, hostname: hostname(), isHead: options.isHead,
      resourcesTotal: detected.resources, labels: { ...options.labels, 'rayts.io/node-id': nodeId },
      startTimeMs: Date.now(), rayletPid: process.pid, sessionName: paths.dir.split('/').pop()!, version: RAYTS_VERSION,
    },
    available: () => ({ ...sched.available }),
    total: () => ({ ...sched.total }),
    demands: () => [...router.demands(), ...actors.demands().map((d) => ({ ...d, kind: 'actor', strategy: '', infeasible: false }))],
    live: () => ({ liveActorIds: actors.liveActorIds(), liveJobIds: [...jobDrivers.keys()] }),
    onClusterView: (view) => router.updateView(view),
    onFatal: (reason, code) => {
      logger.error(reason);
      void stop(reason, false).finally(() => options.onFatal(reason, code));
    },
  });
  try {
    await connection.register();
  } catch (err) {
    sharedPort.close();
    server.forceShutdown();
    gcs.close();
    throw err;
  }
  connection.startReporting();
  pool.start();
  const prestartTarget = config.prestartWorkers >= 0 ? config.prestartWorkers : cpus;
  const reaper = setInterval(() => sched.reapIdle(prestartTarget, config.idleWorkerKillMs), Math.max(100, config.idleWorkerKillMs / 2));
  reaper.unref();
  const ready: RayletReady = { pid: process.pid, nodeId, address, port, socketPath, nodeIp: options.nodeIp, gcsAddress: options.gcsAddress };
  writeJson(paths.rayletReady, ready);
  logger.info('raylet is serving', { address, nodeId, resources: detected.resources });
  return { nodeId, port, stop };
}
