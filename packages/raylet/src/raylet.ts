/** Wires a raylet: resources, gRPC server (health + logs), registration, reports, worker pool. */
import * as grpc from '@grpc/grpc-js';
import { hostname } from 'node:os';
import {
  bindServer, createServer, formatAddress, GcsClient, newNodeId, RAYTS_VERSION, RpcError, raytsProto, serverStream, unary,
  SessionPaths, writeJson, type Config, type Logger, type RayletReady, type TlsFiles,
} from '@rayts/common';
import { detectResources, type ResourceFlags } from './resources_detect.js';
import { listLogs, resolveLogName, streamLog } from './log_service.js';
import { GcsConnection } from './gcs_connection.js';
import { WorkerPool } from './worker_pool.js';

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
  /** Called when the raylet must exit on its own (dead, head gone). */
  onFatal: (reason: string, code: number) => void;
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
    StreamLog: serverStream(logger, 'StreamLog', async (req, call) => {
      const path = resolveLogName(paths.logs, req.name);
      let cancelled = false;
      call.on('cancelled', () => { cancelled = true; });
      call.on('close', () => { cancelled = true; });
      await streamLog(path, req.tail, req.follow, { write: (c) => call.write(c), cancelled: () => cancelled }, 200, logger);
    }),
  });
  const port = await bindServer(server, options.nodeIp, options.port, options.tls, 'raylet');
  const address = formatAddress(options.nodeIp, port);

  const pool = new WorkerPool({
    paths, nodeId, logger, exitGraceMs: config.workerExitGraceMs,
    prestart: config.prestartWorkers >= 0 ? config.prestartWorkers : Math.ceil(detected.resources.CPU ?? 0),
  });
  const gcs = new GcsClient(options.gcsAddress, { token: options.token, tls: options.tls, timeoutMs: config.gcsRpcTimeoutMs });
  let stopping = false;
  const stop = async (reason: string, graceful: boolean) => {
    if (stopping) return;
    stopping = true;
    connection.stop();
    logger.info('raylet stopping', { reason });
    if (graceful) await gcs.unregisterNode(nodeId, reason, 2000).catch(() => undefined);
    await pool.stop();
    server.forceShutdown();
    gcs.close();
  };
  const connection = new GcsConnection({
    client: gcs, config, logger,
    node: {
      nodeId, nodeIp: options.nodeIp, rayletPort: port, hostname: hostname(), isHead: options.isHead,
      resourcesTotal: detected.resources, labels: { ...options.labels, 'rayts.io/node-id': nodeId },
      startTimeMs: Date.now(), rayletPid: process.pid, sessionName: paths.dir.split('/').pop()!, version: RAYTS_VERSION,
    },
    available: () => detected.resources,
    demands: () => [],
    onFatal: (reason, code) => {
      logger.error(reason);
      void stop(reason, false).finally(() => options.onFatal(reason, code));
    },
  });
  try {
    await connection.register();
  } catch (err) {
    server.forceShutdown();
    gcs.close();
    throw err;
  }
  connection.startReporting();
  pool.start();
  const ready: RayletReady = { pid: process.pid, nodeId, address, port };
  writeJson(paths.rayletReady, ready);
  logger.info('raylet is serving', { address, nodeId, resources: detected.resources });
  return { nodeId, port, stop };
}
