/**
 * Builds a raylet (Ray's Raylet owning its NodeManager): the object store, the worker pool, the
 * local scheduler, the task router, the object manager and the hosted actors, in that order, each
 * given the parts it uses; then the node manager and the local socket; then the gRPC services. The
 * gRPC server starts last, once every part it serves exists, and the node registers with the head
 * after that. Stopping closes the parts in the reverse order.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  ActorHostClient, bindSharedPort, ClientPool, createServer, fits, formatAddress, GcsActorClient, GcsClient, newNodeId, PackageClient, RAYTS_VERSION, RayletClient,
  SessionPaths, writeJson, type Config, type Logger, type RayletReady, type TlsFiles,
} from '@rayts/common';
import { Arena, ObjectStore, parseHugePagesSetting, readHugePageFacts } from '@rayts/object-store';
import { detectResources, type DetectedResources, type ResourceFlags } from './resources_detect.js';
import { GcsConnection } from './gcs_connection.js';
import { WorkerPool } from './worker_pool.js';
import { LocalScheduler } from './local_scheduler.js';
import { LocalServer } from './local_server.js';
import { LocalClients } from './local_clients.js';
import { LocalObjectRequests } from './local_object_requests.js';
import { NodeManager } from './node_manager.js';
import { TaskRouter } from './task_router.js';
import { UnreachableNodes } from './unreachable_nodes.js';
import { ObjectManager } from './object_manager.js';
import { PAGE_MODE_LINES, prefaultInBackground } from './prefault.js';
import { workerEnv } from './worker_env.js';
import { HostedActors } from './hosted_actors.js';
import { OBJECT_TRANSFER_MAGIC, serveObjectTransfer } from './object_transfer.js';
import { BundleReservations } from './bundle_reservations.js';
import { addRayletService } from './raylet_service.js';
import { addActorHostService } from './actor_host_service.js';
import { Teardown } from './teardown.js';
import { DirectCallCounts } from './direct_call_counts.js';
import { NodeMetrics } from './node_metrics.js';
import { HostStats } from './host_stats.js';
import { ProcessUsage } from './process_usage.js';
import { startMetricsServer } from './metrics_server.js';
import { RuntimeEnvs } from './jobs/runtime_envs.js';
import { RuntimeEnvGate } from './jobs/env_gate.js';
import { JobDrivers } from './jobs/job_drivers.js';
import { NodeNpm, findNpmCli } from './jobs/npm.js';
import { MemoryMonitor } from './memory/memory_monitor.js';
import { NodeMemoryReader } from './memory/node_memory.js';
import { OomScoreAdjuster } from './memory/oom_score.js';
import { RunningWorkers } from './memory/running_workers.js';

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
  /** The Prometheus endpoint's port (0 = any free port). */
  metricsExportPort: number;
  /** Whether scrapes must present the cluster token (--metrics-auth). */
  metricsAuth: boolean;
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
  if (detected.gpus?.gpus.length) logger.info('GPUs found', { source: detected.gpus.source, gpus: detected.gpus.gpus });
  const teardown = new Teardown(logger);
  try {
    return await build(options, paths, nodeId, detected, teardown);
  } catch (err) {
    await teardown.run('the raylet could not start', false);
    throw err;
  }
}

/** Builds and starts the parts; each adds its closing step to `teardown` once it exists. */
async function build(options: RayletOptions, paths: SessionPaths, nodeId: string, detected: DetectedResources, teardown: Teardown): Promise<RunningRaylet> {
  const { config, logger } = options;

  // The object store. Its memory is reserved in the background (a 7 GB store takes seconds), so
  // the node answers at once.
  // Shared with the owner's group when asked: their drivers (which also need the token) map it by its name.
  const arena = Arena.create({
    size: detected.objectStoreBytes, dir: config.objectStoreShmDir, prefault: false, shareWithGroup: config.objectStoreShareWithGroup,
    hugePages: parseHugePagesSetting(config.objectStoreHugePages),
  });
  teardown.add('object store arena', () => arena.close());
  if (arena.warning) logger.warn(arena.warning);
  logger.info(`object store pages: ${PAGE_MODE_LINES[arena.pageMode]}`, { pageMode: arena.pageMode, bytes: arena.size, setting: config.objectStoreHugePages });
  let reserved = !config.objectStorePrefault;
  const store = new ObjectStore({
    arena, spillDir: options.spillDir ?? paths.spill, spillThreshold: config.objectSpillingThreshold,
    minSpillSize: config.objectSpillingMinBytes > 0 ? config.objectSpillingMinBytes : undefined,
    maxFusedObjects: config.objectSpillingMaxFusedObjects, diskCapacityThreshold: config.localFsCapacityThreshold,
    fullTimeoutMs: config.objectStoreFullTimeoutMs, logger,
    // Only readers' pins stand in the way: they are asked to collect garbage at once.
    onWaitingForSpace: () => objects.spaceShort(),
  });
  teardown.add('object store', () => store.close());
  if (config.objectStorePrefault) {
    const prefault = prefaultInBackground({ path: arena.procPath, size: arena.size, segmentSize: arena.segmentSize, pageMode: arena.pageMode }, logger, () => { reserved = true; });
    // Not awaited: the thread ends once its one native call returns, which may take seconds.
    teardown.add('object store reservation', () => { void prefault.terminate(); });
  }

  // Clients of the head, of the other raylets and of the actor hosts on other nodes.
  const clientOptions = { token: options.token, tls: options.tls, timeoutMs: config.gcsRpcTimeoutMs };
  const gcs = new GcsClient(options.gcsAddress, clientOptions);
  teardown.add('head client', () => gcs.close());
  const gcsActors = new GcsActorClient(options.gcsAddress, clientOptions);
  teardown.add('head actor client', () => gcsActors.close());
  const raylets = new ClientPool((address) => new RayletClient(address, clientOptions));
  teardown.add('raylet clients', () => raylets.close());
  const actorHosts = new ClientPool((address) => new ActorHostClient(address, clientOptions));
  teardown.add('actor host clients', () => actorHosts.close());
  const packages = new PackageClient(options.gcsAddress, { ...clientOptions, chunkBytes: config.jobPackageChunkBytes });
  teardown.add('package client', () => packages.close());

  // Jobs' runtime envs (working_dir packages, npm ci), prepared once per package on this node.
  const envs = new RuntimeEnvs({
    paths, packages, lookup: (jobId) => gcs.getJobRuntimeEnv(jobId), npm: new NodeNpm(findNpmCli()), logger,
    setupTimeoutMs: config.jobRuntimeEnvSetupTimeoutS * 1000, lookupRetryMs: config.gcsRegisterRetryMs,
  });
  teardown.add('runtime envs', () => envs.close());
  // Submitted jobs' drivers (built once the scheduler exists) are killed after the workers: this step runs after the pool's.
  let drivers: JobDrivers | undefined;
  teardown.add('job drivers', () => drivers?.stopAll());

  const cpus = Math.ceil(detected.resources.CPU ?? 0);
  const prestartTarget = config.prestartWorkers >= 0 ? config.prestartWorkers : cpus;
  const pool = new WorkerPool({
    paths, nodeId, logger, exitGraceMs: config.workerExitGraceMs, exitedKept: config.exitedWorkersKept, socketPath: paths.rayletSocket, gcsAddress: options.gcsAddress, tokenFile: options.tokenFile,
    prestart: prestartTarget, maxStarting: Math.max(1, cpus), maxWorkers: config.maxWorkersPerNode > 0 ? config.maxWorkersPerNode : 4 * Math.max(1, cpus) + 4,
    oomScore: new OomScoreAdjuster(config.workerOomScoreAdjustment, logger),
    env: workerEnv(process.env, config.workerMallocHugePages, readHugePageFacts().hugetlbFreeBytes),
  });
  teardown.add('worker pool', () => pool.stop());
  const scheduler = new LocalScheduler({
    total: detected.resources, gpuDevices: detected.gpuDevices, workers: pool, logger,
    pipeline: { depth: config.schedulerPipelineDepth, maxAvgMs: config.schedulerPipelineMaxAvgMs, minRuns: config.schedulerPipelineMinRuns },
  });
  const bundles = new BundleReservations(scheduler, logger);
  const gate = new RuntimeEnvGate(nodeId, envs, scheduler, logger);
  // Nodes calls failed on, left out of placement until the head declares them dead or they answer a probe.
  const unreachable = new UnreachableNodes({ probe: async (address, id) => { await raylets.get(address).healthCheck(id, config.healthCheckTimeoutMs); } }, logger);
  const router = new TaskRouter(nodeId, scheduler, gate, raylets, unreachable, logger, config.schedulerSpreadThreshold);
  drivers = new JobDrivers({
    paths, nodeId, gcsAddress: options.gcsAddress, token: options.token, envs, logger,
    resources: { reserve: (s) => scheduler.reserve(s), unreserve: (s, g) => scheduler.unreserve(s, g), fitsNow: (s) => scheduler.canRunNow(s), available: scheduler.available },
    report: (state) => gcs.reportJobDriver(state), retry: { initialMs: config.gcsRegisterRetryMs, maxMs: 8 * config.gcsRegisterRetryMs },
    stopGraceMs: config.jobStopGraceMs,
  });
  const jobDrivers = drivers;
  const clients = new LocalClients();
  const objects = new ObjectManager({
    store, nodeId, nodes: router, unreachable, raylets, collectors: clients, logger,
    // Without TLS, pulls take the raw side channel (inside TLS they stay on gRPC).
    sideChannelToken: options.tls ? undefined : options.token,
    gcRequestIntervalMs: config.objectStoreGcRequestIntervalMs, pullChunkBytes: config.objectPullChunkBytes,
  });
  const callCounts = new DirectCallCounts(join(paths.dir, 'actor_calls'));
  const leasedTasks = new DirectCallCounts(join(paths.dir, 'leased_tasks'));
  const actors = new HostedActors({
    scheduler, paths, logger, callCounts, send: (id, m) => clients.send(id, m), startWorker: () => pool.startWorker(),
    refillDelayMs: config.actorPoolRefillDelayMs, reservationTimeoutMs: config.actorReservationTimeoutMs, spreadThreshold: config.schedulerSpreadThreshold,
    markDedicated: (id, socket) => pool.markDedicated(id, socket), killWorker: (id, reason) => pool.killWorker(id, reason),
    reportDeath: (actorId, workerId, reason) => {
      // Lost if the head is down: re-registration reconciles (the actor is missing from live_actor_ids).
      void gcsActors.reportActorDeath(actorId, nodeId, workerId, reason).catch((err: Error) => logger.warn('could not report an actor death', { actorId, error: err.message }));
    },
  });
  teardown.add('hosted actors', () => actors.stop());

  // Kills one worker at a time when the node's memory passes the threshold; its task fails with OutOfMemoryError.
  const rss = new ProcessUsage();
  const memoryMonitor = new MemoryMonitor({
    reader: new NodeMemoryReader(), workers: new RunningWorkers({ scheduler, actors, pool }), rssOf: (pid) => rss.read([pid])[0]?.rssBytes ?? 0,
    kill: (k) => pool.killWorker(k.workerId, k.message, 'OutOfMemoryError'),
    node: { nodeId, nodeIp: options.nodeIp }, logger, config: { refreshMs: config.memoryMonitorRefreshMs, threshold: config.memoryUsageThreshold },
  });
  teardown.add('memory monitor', () => memoryMonitor.stop());

  const node = new NodeManager({
    nodeId, nodeIp: options.nodeIp, resources: detected.resources, workers: pool, scheduler, router, gate, envs, actors, objects, clients, raylets, actorHosts, gcs, logger,
    leased: {
      socketPath: (workerId) => paths.socket(`worker-${workerId.slice(0, 16)}.sock`),
      countsPath: (workerId) => leasedTasks.pathFor(workerId),
      retire: (workerId) => leasedTasks.retire(workerId),
    },
    objectRequests: new LocalObjectRequests({ nodeId, objects, owners: clients, nodes: router, raylets }),
    timing: { workerDisconnectKillDelayMs: config.workerDisconnectKillDelayMs, idleWorkerKillMs: config.idleWorkerKillMs, prestartTarget },
  });
  pool.on('exit', (workerId, reason, errorName) => node.workerExited(workerId, reason, errorName));
  teardown.add('node manager', () => node.stop());
  const local = new LocalServer({
    socketPath: paths.rayletSocket, token: options.token, clients, handlers: node, helloTimeoutMs: config.localHelloTimeoutMs, logger,
    welcome: {
      type: 'welcome', nodeId, nodeIp: options.nodeIp, arenaPath: arena.attachPath, arenaSize: arena.size, arenaSegmentSize: arena.segmentSize,
      arenaPageMode: arena.pageMode, maxInlineBytes: config.maxInlineObjectBytes, gcsAddress: options.gcsAddress,
    },
  });
  teardown.add('local socket', () => local.close());
  await local.listen();

  // Read by Prometheus at scrape time; the gRPC server times its calls into it.
  const metrics = new NodeMetrics({
    nodeId, nodeIp: options.nodeIp, host: new HostStats(paths.dir), store, workers: pool, scheduler, router, actors, actorCalls: callCounts, leasedTasks, memoryMonitor,
  });

  // The gRPC services, on one port with the side channel for bulk object transfer.
  const server = createServer({
    token: options.token, logger, maxMessageBytes: config.grpcMaxMessageBytes,
    authFailureLogIntervalMs: config.authFailureLogIntervalMs, tls: options.tls, latency: metrics.rpcLatency,
  });
  addRayletService(server, {
    nodeId, nodeIp: options.nodeIp, logsDir: paths.logs, router, objects, clients, workers: pool, bundles, drivers: jobDrivers, logger,
    store: { stats: () => store.stats(), fallbackAllocated: !!arena.warning, reserved: () => reserved, pageMode: arena.pageMode },
    usage: new ProcessUsage(), host: new HostStats(paths.dir),
    memoryInfoTimeoutMs: config.memoryInfoTimeoutMs, logFollowPollMs: config.logFollowPollMs,
  });
  addActorHostService(server, nodeId, actors, envs, logger);
  teardown.add('gRPC server', () => server.forceShutdown());
  const sharedPort = await bindSharedPort(server, options.nodeIp, options.port, options.tls, 'raylet', OBJECT_TRANSFER_MAGIC, config.portFirstBytesTimeoutMs,
    (socket) => serveObjectTransfer(socket, options.token, (id) => objects.pinForTransfer(id), config.portFirstBytesTimeoutMs, logger));
  teardown.add('raylet port', () => sharedPort.close());
  const port = sharedPort.port;
  const address = formatAddress(options.nodeIp, port);
  const metricsServer = await startMetricsServer({
    source: metrics.registry, host: options.nodeIp, port: options.metricsExportPort, token: options.metricsAuth ? options.token : undefined,
    tls: options.tls, authFailureLogIntervalMs: config.authFailureLogIntervalMs, logger,
  });
  teardown.add('metrics endpoint', () => metricsServer.close());

  // Registration with the head, then the periodic reports that keep the node alive there.
  const connection = new GcsConnection({
    client: gcs, config, logger, metricsExportPort: metricsServer.port,
    node: {
      nodeId, nodeIp: options.nodeIp, rayletPort: port, hostname: hostname(), isHead: options.isHead,
      resourcesTotal: detected.resources, labels: { ...options.labels, 'rayts.io/node-id': nodeId },
      startTimeMs: Date.now(), rayletPid: process.pid, sessionName: paths.dir.split('/').pop()!, version: RAYTS_VERSION, nodeVersion: process.versions.node,
    },
    available: () => ({ ...scheduler.available }),
    total: () => ({ ...scheduler.total }),
    demands: () => [...router.demands(), ...actors.demands().map((d) => ({ ...d, kind: 'actor', strategy: '', infeasible: false }))],
    live: () => ({ liveActorIds: actors.liveActorIds(), liveJobIds: node.liveJobIds() }),
    jobDrivers: () => jobDrivers.states(),
    envJobIds: () => envs.heldJobIds(),
    onFinishedJobs: (jobIds) => {
      for (const jobId of jobIds) {
        gate.dropJob(jobId);
        scheduler.onJobGone(jobId);
        // A (detached) actor of the job still runs in its working_dir: released once it is gone.
        if (!actors.hostsJob(jobId)) envs.release(jobId);
      }
    },
    onClusterView: (view) => router.updateView(view),
    onFatal: (reason, code) => {
      logger.error(reason);
      void teardown.run(reason, false).finally(() => options.onFatal(reason, code));
    },
  });
  teardown.add('head connection', async ({ reason, graceful }) => {
    connection.stop();
    if (graceful) await gcs.unregisterNode(nodeId, reason, config.rayletUnregisterTimeoutMs).catch(() => undefined);
  });
  await connection.register();
  connection.startReporting();
  pool.start();
  node.start();
  memoryMonitor.start();
  const ready: RayletReady = {
    pid: process.pid, nodeId, address, port, socketPath: paths.rayletSocket, nodeIp: options.nodeIp, gcsAddress: options.gcsAddress, metricsExportPort: metricsServer.port,
    objectStoreBytes: detected.objectStoreBytes, shmDir: config.objectStoreShmDir, arenaDir: arena.dir, arenaShared: !!arena.sharedPath, arenaPageMode: arena.pageMode, spillDir: options.spillDir ?? paths.spill,
  };
  writeJson(paths.rayletReady, ready);
  logger.info('raylet is serving', { address, nodeId, resources: detected.resources, metrics: metricsServer.url });
  return { nodeId, port, stop: (reason, graceful) => teardown.run(reason, graceful) };
}
