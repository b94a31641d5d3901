/** Wires the head process together: database, identity, membership, health checks, gRPC server. */
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { join } from 'node:path';
import {
  ActorHostClient, CLIENT_TUNNEL_MAGIC, ClientPool, FUNCTION_NAMESPACE, MAX_FRAME_BYTES, RayletClient, bindServer, bindSharedPort, createServer, formatAddress,
  readJson, SessionPaths, UsageError, type Config, type Logger, type RayletReady, type SharedPort, type TlsFiles,
} from '@rayts/common';
import { DB_FILE, openDatabase, type Db } from './storage/database.js';
import { explainDiskFull } from './storage/disk_full.js';
import { DeferredWrites } from './storage/deferred_writes.js';
import { NodeTable } from './storage/node_table.js';
import { loadOrCreateIdentity, type ClusterIdentity } from './cluster_identity.js';
import { NodeManager } from './node_manager.js';
import { HealthChecker } from './health_checker.js';
import { KvStore } from './kv_store.js';
import { JobTable } from './job_table.js';
import { addHeadServices } from './services.js';
import { ActorTable } from './storage/actor_table.js';
import { ActorManager } from './actor_manager.js';
import { addActorService } from './actor_service.js';

import { PlacementGroupTable } from './storage/placement_group_table.js';
import { PlacementGroupManager } from './placement_group_manager.js';
import { BundleReservations } from './bundle_reservation.js';
import { addPlacementGroupService } from './placement_group_service.js';
import type { HeadState } from './head_state.js';
import { ClusterMetrics, HeadLatencies } from './cluster_metrics.js';
import { timeStatements } from './storage/timed_statements.js';
import { TaskEventStore } from './task_events/task_event_store.js';
import { addTaskEventService } from './task_events/task_event_service.js';
import { SubmissionTable } from './jobs/submission_table.js';
import { JobManager } from './jobs/job_manager.js';
import { addJobService } from './jobs/job_service.js';
import { PackageStore } from './packages/package_store.js';
import { addPackageService } from './packages/package_service.js';
import { ClientServer } from './client_server/client_server.js';

export interface HeadOptions {
  sessionDir: string;
  stateDir: string;
  host: string;
  port: number;
  token: string;
  config: Config;
  logger: Logger;
  tls?: TlsFiles;
  /** The remote-driver endpoint (`rayts://`, --ray-client-server-port; 0 = any free port); undefined = none. */
  clientPort?: number;
}

/**
 * A head that serves gRPC. Its entry point (@rayts/dashboard's main) writes the head's ready file once
 * everything else in the process listens too.
 */
export interface RunningHead {
  port: number;
  /** HOST:PORT the GCS listens on. */
  address: string;
  /** The port remote drivers connect to (`rayts://HOST:PORT`), when the head serves them. */
  clientPort?: number;
  identity: ClusterIdentity;
  /** The in-process interfaces for the HTTP API server. */
  state: HeadState;
  /** The head's Prometheus registry (ClusterMetrics), for the HTTP server's /metrics. */
  metrics: Registry;
  stop(): Promise<void>;
}

export async function startHead(options: HeadOptions): Promise<RunningHead> {
  const { config, logger } = options;
  const sync = config.gcsSynchronous.toUpperCase();
  if (sync !== 'NORMAL' && sync !== 'FULL') {
    throw new UsageError(`RAYTS_GCS_SYNCHRONOUS=${config.gcsSynchronous} is not a durability level`, 'use normal (the default) or full');
  }
  const latencies = new HeadLatencies();
  const db: Db = timeStatements(explainDiskFull(openDatabase(options.stateDir, sync), join(options.stateDir, DB_FILE)), latencies.storage);
  const identity = loadOrCreateIdentity(db);
  logger.info(identity.created ? 'created a new cluster' : 'loaded cluster state', {
    clusterId: identity.clusterId, stateDir: options.stateDir,
  });
  const nodes = new NodeManager(new NodeTable(db, config.deadNodesKept), logger, config.deadNodesKept);
  // The changes the head makes by itself (no request to answer) that a full state disk holds back.
  const writes = new DeferredWrites({ logger, retryMs: config.stateDiskFullRetryMs, logIntervalMs: config.stateDiskFullLogIntervalMs });
  const server = createServer({
    token: options.token, logger, maxMessageBytes: config.grpcMaxMessageBytes,
    authFailureLogIntervalMs: config.authFailureLogIntervalMs, tls: options.tls, latency: latencies.rpcLatency,
  });
  // Calls from the head to raylets (probes, creating actors, reserving bundles), one client per address; a
  // dead node's clients are closed (a new raylet at its address gets new ones).
  const rayletCallOptions = { token: options.token, tls: options.tls, timeoutMs: config.gcsRpcTimeoutMs };
  const raylets = new ClientPool((address) => new RayletClient(address, rayletCallOptions));
  const actorHosts = new ClientPool((address) => new ActorHostClient(address, rayletCallOptions));
  nodes.on('nodeDead', (record) => {
    const address = formatAddress(record.nodeIp, record.rayletPort);
    raylets.drop(address);
    actorHosts.drop(address);
  });
  // Health probes use the same clients: a channel that hangs shows in the probes.
  const health = new HealthChecker(nodes, config, raylets, logger, writes);
  const placementGroups = new PlacementGroupManager({
    table: new PlacementGroupTable(db, config.removedPlacementGroupsKept), nodes, config, logger, writes,
    reservations: new BundleReservations({ nodes, raylets, config, logger }),
  });
  const startedAtMs = Date.now();
  const paths = new SessionPaths(options.sessionDir);
  const jobs = new JobTable(db);
  const kv = new KvStore(db);
  const actors = new ActorManager(new ActorTable(db, config.deadActorsKept), nodes, jobs, actorHosts, logger, writes, {
    scheduleRetryMs: config.actorScheduleRetryMs, spreadThreshold: config.schedulerSpreadThreshold, classDescriptor: (hash) => kv.get(FUNCTION_NAMESPACE, hash),
  });
  const taskEvents = new TaskEventStore({ maxStored: config.taskEventsMaxStored });
  nodes.on('nodeDead', (record) => taskEvents.markNodeDead(record.nodeId, record.deathReason));
  // Submitted jobs: their drivers run under raylets; working_dir packages are files under the state dir.
  const packages = new PackageStore({ dir: join(options.stateDir, 'packages'), maxBytes: config.jobPackageMaxBytes, logger });
  const jobSubmissions = new JobManager({
    table: new SubmissionTable(db), drivers: jobs, nodes, hostFor: (address) => raylets.get(address), packages, config, logger, writes,
  });
  const metrics = new ClusterMetrics({ nodes, actors, placementGroups, jobs, submissions: jobSubmissions, packages }, latencies);
  const ctx = {
    identity, sessionName: paths.dir.split('/').pop()!, gcsAddress: '', startedAtMs, nodes, kv, jobs, jobSubmissions, packages, actors, placementGroups,
    taskEvents, config, logger, raylets,
  };
  addHeadServices(server, ctx);
  addJobService(server, ctx);
  addPackageService(server, packages, config, logger);
  addTaskEventService(server, taskEvents, jobs, logger);
  addActorService(server, actors, config, logger);
  addPlacementGroupService(server, placementGroups, config, logger);
  let port: number;
  try {
    port = await bindServer(server, options.host, options.port, options.tls, 'GCS');
  } catch (err) {
    db.close();
    throw err;
  }
  ctx.gcsAddress = formatAddress(options.host, port);
  // Remote drivers: the GCS's services a second time, and the tunnel to the head node's raylet, on one port.
  const clients = new ClientServer({
    token: options.token, clusterId: identity.clusterId, config, logger, maxFrameBytes: MAX_FRAME_BYTES,
    headRaylet: () => readJson<RayletReady>(paths.rayletReady),
  });
  let clientPort: SharedPort | undefined;
  if (options.clientPort !== undefined) {
    try {
      clientPort = await bindSharedPort(server, options.host, options.clientPort, options.tls, 'ray client server', CLIENT_TUNNEL_MAGIC,
        config.portFirstBytesTimeoutMs, (socket) => clients.accept(socket), true);
    } catch (err) {
      server.forceShutdown();
      db.close();
      throw err;
    }
  }
  health.start();
  actors.start();
  placementGroups.start();
  jobSubmissions.start();
  logger.info('head is serving', { address: ctx.gcsAddress, clientPort: clientPort?.port, dbFile: join(options.stateDir, 'gcs.db') });
  const state: HeadState = ctx;

  return {
    port,
    address: ctx.gcsAddress,
    clientPort: clientPort?.port,
    identity,
    state,
    metrics: metrics.registry,
    async stop() {
      clients.stop();
      clientPort?.close();
      health.stop();
      writes.stop();
      jobSubmissions.close();
      actors.stop();
      placementGroups.stop();
      raylets.close();
      actorHosts.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
      db.close();
    },
  };
}

export { grpc };
