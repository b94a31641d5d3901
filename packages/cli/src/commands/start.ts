/**
 * `rayts start --head` and `rayts start --address`: validate every flag before anything starts,
 * launch the daemons detached, wait until they answer, print what to do next.
 */
import { existsSync, copyFileSync, chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  DEFAULT_CLIENT_PORT, GcsClient, PROTOCOL_VERSION, PortInUseError, isWildcardHost, RAYTS_VERSION, SessionPaths, UsageError, VersionMismatchError, createSession,
  defaultRegistryDir, detectNodeIp, formatAddress, generateToken, isAlive, isPortFree, localAddressToward, parseAddress, parseBytes,
  isAutoAddress, parseBooleanFlag, parseLabels, parsePort, parseResourcesJson, readJson, readPidFile, registerSession, sessionsIn, writeJson, writeTokenFile,
  readSessionInfo, tlsFromEnv, ClusterRecords, currentOwner, defaultClustersDir,
  type Config, type HeadReady, type NodeKind, type ProcessRecord, type RayletReady, type SessionInfo,
} from '@rayts/common';
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, needsPlainHttpWarning, plainHttpWarning } from '@rayts/dashboard/dashboard_flags';
import { HEAD_MAIN, RAYLET_MAIN, launchDaemon, waitForDaemon, type LaunchedDaemon } from '../daemons.js';
import { Progress, colors } from '../output.js';
import { stopProcesses } from '../stopper.js';
import { resolveTarget, tokenFromEnvironment } from '../discovery.js';
import { supervise } from '../supervisor.js';
import { metricsLine, printHeadNextSteps, tempDirHint } from './start_banner.js';

export interface StartOptions {
  head?: boolean;
  address?: string;
  port?: string;
  nodeIpAddress?: string;
  tempDir?: string;
  stateDir?: string;
  numCpus?: string;
  numGpus?: string;
  memory?: string;
  objectStoreMemory?: string;
  /** auto | on | off (the raylet reads RAYTS_OBJECT_STORE_HUGE_PAGES). */
  objectStoreHugePages?: string;
  resources: string;
  labels?: string;
  nodeManagerPort: string;
  tokenFile?: string;
  block?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  /** Daemons also write their log lines to stderr (RAYTS_LOG_TO_STDERR); set in the environment they inherit. */
  logToStderr?: boolean;
  watchPid?: string;
  cleanupTempDir?: boolean;
  /** Not in the host's record of clusters (a driver's private cluster). */
  unlisted?: boolean;
  objectSpillingDirectory?: string;
  metricsExportPort: string;
  /** 'true'/'false' from the command line, a boolean from a config file. */
  metricsAuth: string | boolean;
  dashboardHost?: string;
  dashboardPort?: string;
  /** From the command line a boolean; from a config file possibly the text. */
  includeDashboard?: boolean | string;
  rayClientServerPort?: string;
}


/** The head's HTTP API server (dashboard): off, or where it binds (port undefined = the default or the previous head's). */
interface DashboardFlags {
  include: boolean;
  host: string;
  port?: number;
}

interface NodeFlags {
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  objectStoreMemory?: number;
  resources: Record<string, number>;
  labels: Record<string, string>;
  nodeManagerPort: number;
  spillDir?: string;
  metricsExportPort: number;
  metricsAuth: boolean;
  dashboard: DashboardFlags;
  /** --block with RAYTS_LOG_TO_STDERR: the daemons' stderr passes through this command's (journald). */
  passStderr?: boolean;
}

function dashboardFlags(options: StartOptions): DashboardFlags {
  const given = [options.dashboardHost !== undefined && '--dashboard-host', options.dashboardPort !== undefined && '--dashboard-port',
    options.includeDashboard !== undefined && '--include-dashboard'].filter(Boolean);
  if (!options.head && given.length > 0) {
    throw new UsageError(`${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} only for the head; the dashboard runs in the head process`);
  }
  const include = options.includeDashboard === undefined ? true : parseBooleanFlag(options.includeDashboard, '--include-dashboard');
  const host = options.dashboardHost ?? DEFAULT_DASHBOARD_HOST;
  if (!/^[0-9A-Za-z.:\-]+$/.test(host)) {
    throw new UsageError(`--dashboard-host must be an address of this host (or 0.0.0.0 for every interface), got '${host}'`, 'leave it out for 127.0.0.1');
  }
  return { include, host, port: options.dashboardPort === undefined ? undefined : parsePort(options.dashboardPort, '--dashboard-port') };
}

function nonNegativeInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a whole number ≥ 0, got '${value}'`);
  return n;
}

function bytesFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = parseBytes(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a size in bytes such as 2000000000 or 2GiB, got '${value}'`);
  return n;
}

/** Every flag is checked before any process starts. */
export function validateStartFlags(options: StartOptions): NodeFlags {
  if (options.head && options.address) throw new UsageError('--head and --address exclude each other', 'use --head on the first node and --address=HEAD:PORT on the others');
  if (!options.head && !options.address) throw new UsageError('say which node this is: --head for the first node, or --address=HEAD_IP:PORT to join one');
  if (!options.head && options.port !== undefined) throw new UsageError('--port is only for the head; a joining node names the head with --address');
  if (!options.head && options.stateDir !== undefined) throw new UsageError('--state-dir is only for the head');
  if (options.nodeIpAddress !== undefined && !/^[0-9A-Za-z.:\-]+$/.test(options.nodeIpAddress)) {
    throw new UsageError(`--node-ip-address must be an IP address of this host, got '${options.nodeIpAddress}'`, 'leave it out to detect it');
  }
  if (options.watchPid !== undefined && (!options.block || !/^\d+$/.test(options.watchPid))) throw new UsageError('--watch-pid takes a pid and needs --block');
  if (options.objectStoreHugePages !== undefined && !['auto', 'on', 'off'].includes(options.objectStoreHugePages)) {
    throw new UsageError(`--object-store-huge-pages must be auto, on or off, got '${options.objectStoreHugePages}'`);
  }
  const tls = [options.tlsCert, options.tlsKey, options.tlsCa];
  if (tls.some(Boolean) && !tls.every(Boolean)) throw new UsageError('mutual TLS needs all three of --tls-cert, --tls-key and --tls-ca');
  return {
    numCpus: nonNegativeInt(options.numCpus, '--num-cpus'),
    numGpus: nonNegativeInt(options.numGpus, '--num-gpus'),
    memory: bytesFlag(options.memory, '--memory'),
    objectStoreMemory: bytesFlag(options.objectStoreMemory, '--object-store-memory'),
    resources: parseResourcesJson(options.resources),
    labels: parseLabels(options.labels ?? ''),
    nodeManagerPort: parsePort(options.nodeManagerPort, '--node-manager-port'),
    spillDir: options.objectSpillingDirectory === undefined ? undefined : resolve(options.objectSpillingDirectory),
    dashboard: dashboardFlags(options),
    metricsExportPort: parsePort(options.metricsExportPort, '--metrics-export-port'),
    metricsAuth: parseBooleanFlag(options.metricsAuth, '--metrics-auth'),
  };
}

function rayletArgs(paths: SessionPaths, gcsAddress: string, nodeIp: string, flags: NodeFlags, isHead: boolean): string[] {
  const args = ['--session-dir', paths.dir, '--gcs-address', gcsAddress, '--node-ip-address', nodeIp,
    '--node-manager-port', String(flags.nodeManagerPort), '--token-file', paths.token,
    '--resources', JSON.stringify(flags.resources), '--labels', JSON.stringify(flags.labels),
    '--metrics-export-port', String(flags.metricsExportPort), '--metrics-auth', String(flags.metricsAuth)];
  if (flags.numCpus !== undefined) args.push('--num-cpus', String(flags.numCpus));
  if (flags.numGpus !== undefined) args.push('--num-gpus', String(flags.numGpus));
  if (flags.memory !== undefined) args.push('--memory', String(flags.memory));
  if (flags.objectStoreMemory !== undefined) args.push('--object-store-memory', String(flags.objectStoreMemory));
  if (flags.spillDir !== undefined) args.push('--object-spilling-directory', flags.spillDir);
  if (isHead) args.push('--head');
  return args;
}

/** A fixed metrics port is checked before anything starts, like the GCS port. */
async function checkMetricsPort(nodeIp: string, flags: NodeFlags): Promise<void> {
  const port = flags.metricsExportPort;
  if (port !== 0 && !(await isPortFree(nodeIp, port))) {
    throw new PortInUseError(`port ${port} on ${nodeIp} is already in use, so the raylet cannot serve metrics there`,
      `another process holds it (see \`ss -ltnp 'sport = :${port}'\`); stop it or choose another port with --metrics-export-port`);
  }
}

async function startRayletDaemon(paths: SessionPaths, gcsAddress: string, nodeIp: string, flags: NodeFlags, isHead: boolean,
  config: Config, progress: Progress): Promise<{ daemon: LaunchedDaemon; ready: RayletReady }> {
  progress.step('Starting the raylet and registering it with the head…');
  const daemon = launchDaemon(paths, 'raylet', RAYLET_MAIN, rayletArgs(paths, gcsAddress, nodeIp, flags, isHead), { passStderr: flags.passStderr });
  const ready = await waitForDaemon<RayletReady>(paths, daemon, paths.rayletReady, (r) => r.pid === daemon.record.pid, config.daemonStartTimeoutS * 1000);
  return { daemon, ready };
}

/** A session of this temp dir whose head still runs, or whose raylet runs with its head gone. */
function existingHeadSession(tempDir: string): { session: SessionInfo; headAlive: boolean } | undefined {
  for (const dir of sessionsIn(tempDir)) {
    const info = readSessionInfo(dir);
    if (!info || info.kind !== 'head') continue;
    const paths = new SessionPaths(dir);
    const head = readPidFile(paths, 'gcs_server');
    const raylet = readPidFile(paths, 'raylet');
    if (head && isAlive(head)) return { session: info, headAlive: true };
    if (raylet && isAlive(raylet)) return { session: info, headAlive: false };
  }
  return undefined;
}

/** Lists this node in the host's record of clusters, so that every user of this host finds it. */
function publishNode(config: Config, node: { kind: NodeKind; address: string; dashboardUrl?: string; sessionDir: string; tokenFile: string; daemon: ProcessRecord }): void {
  const owner = currentOwner();
  new ClusterRecords(defaultClustersDir(config.clustersDir)).publish({
    kind: node.kind, address: node.address, dashboardUrl: node.dashboardUrl, ownerUser: owner.user, ownerUid: owner.uid, ownerGroup: owner.group,
    ownerGid: owner.gid, sessionDir: node.sessionDir, tokenFile: resolve(node.tokenFile), pid: node.daemon.pid, pidStartTime: node.daemon.startTime,
    startedAtMs: Date.now(),
  });
}

function ensureToken(stateDir: string): string {
  // A temp dir made here can be crossed by others (the session's group reaches its sockets through it).
  if (!existsSync(dirname(stateDir))) mkdirSync(dirname(stateDir), { recursive: true, mode: 0o755 });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, 'token');
  if (!existsSync(file)) writeTokenFile(file, generateToken());
  chmodSync(file, 0o600);
  return file;
}

async function cleanupOnFailure(daemons: LaunchedDaemon[]): Promise<void> {
  await stopProcesses(daemons.map((d) => d.record), 3000, false);
}

/**
 * The end of a successful start: with --block, supervise the daemons until one fails (the exit code
 * tells systemd whether to restart the node); otherwise let them run on detached and return 0.
 */
async function finishStart(paths: SessionPaths, started: LaunchedDaemon[], options: StartOptions, tempDir: string, config: Config): Promise<number> {
  if (!options.block) {
    for (const d of started) d.child.unref();
    return 0;
  }
  const code = await supervise(paths, started, config, options.watchPid ? Number(options.watchPid) : undefined);
  if (options.cleanupTempDir) rmSync(tempDir, { recursive: true, force: true });
  // Nothing is left to wait for; do not let a stray handle keep the supervisor alive.
  setImmediate(() => process.exit(code));
  return code;
}

export async function startCommand(options: StartOptions, config: Config): Promise<number> {
  const flags: NodeFlags = { ...validateStartFlags(options), passStderr: !!options.block && config.logToStderr };
  const tempDir = resolve(options.tempDir ?? config.tmpDir);
  const progress = new Progress();
  try {
    return options.head
      ? await startHead(options, flags, tempDir, config, progress)
      : await startWorker(options, flags, tempDir, config, progress);
  } finally {
    progress.done();
  }
}

async function startHead(options: StartOptions, flags: NodeFlags, tempDir: string, config: Config, progress: Progress): Promise<number> {
  const requestedPort = options.port === undefined ? undefined : parsePort(options.port, '--port');
  const existing = existingHeadSession(tempDir);
  if (existing?.headAlive) {
    const head = readJson<HeadReady>(new SessionPaths(existing.session.sessionDir).headReady);
    throw new UsageError(`a rayts head already runs for temp dir ${tempDir} (pid ${head?.pid ?? '?'}, address ${head?.address ?? existing.session.gcsAddress})`,
      `stop it first with \`rayts stop --temp-dir=${tempDir}\`, or start another cluster with its own --temp-dir and --port`);
  }
  const stateDir = resolve(options.stateDir ?? join(tempDir, 'state'));
  const nodeIp = options.nodeIpAddress ?? existing?.session.nodeIp ?? await detectNodeIp(config.nodeIpRouteTarget);
  const previousHead = existing ? readJson<HeadReady>(new SessionPaths(existing.session.sessionDir).headReady) : undefined;
  const port = requestedPort ?? previousHead?.port ?? 6379;
  if (port !== 0 && !(await isPortFree(nodeIp, port))) {
    throw new PortInUseError(`port ${port} on ${nodeIp} is already in use, so the head cannot listen there`,
      `another process holds it (see \`ss -ltnp 'sport = :${port}'\`); stop it or choose another port with --port`);
  }
  const clientPort = await clientServerPort(options, previousHead, nodeIp, port);
  const dashboard = flags.dashboard;
  const dashboardPort = dashboard.port ?? previousDashboardPort(previousHead) ?? DEFAULT_DASHBOARD_PORT;
  if (dashboard.include) {
    if (dashboardPort !== 0 && dashboardPort === port && (dashboard.host === nodeIp || isWildcardHost(dashboard.host))) {
      throw new UsageError(`the GCS and the dashboard cannot both listen on port ${port}`, 'choose another --dashboard-port (default 8265) or --port');
    }
    if (dashboardPort !== 0 && !(await isPortFree(dashboard.host, dashboardPort))) {
      throw new PortInUseError(`dashboard port ${dashboardPort} on ${dashboard.host} is already in use, so the head cannot serve its HTTP API there`,
        `another process holds it (see \`ss -ltnp 'sport = :${dashboardPort}'\`); choose another with --dashboard-port (0 = any free port), or start without it: --include-dashboard=false`);
    }
    if (needsPlainHttpWarning(dashboard.host, !!tlsFromEnv())) process.stderr.write(`Warning: ${plainHttpWarning(dashboard.host)}.\n`);
  }
  // A restarted head keeps the running raylet: only a new one needs its metrics port.
  if (!existing) await checkMetricsPort(nodeIp, flags);
  const tokenFile = ensureToken(stateDir);
  const session = existing?.session ?? createSession(tempDir, { kind: 'head', nodeIp, gcsAddress: '' });
  const paths = new SessionPaths(session.sessionDir);
  copyFileSync(tokenFile, paths.token);
  chmodSync(paths.token, 0o600);

  const started: LaunchedDaemon[] = [];
  try {
    progress.step(existing ? 'Restarting the head on the running session (its raylet keeps running)…' : 'Starting the head (GCS)…');
    const head = launchDaemon(paths, 'gcs_server', HEAD_MAIN,
      ['--session-dir', paths.dir, '--state-dir', stateDir, '--host', nodeIp, '--port', String(port), '--token-file', paths.token,
        '--include-dashboard', String(dashboard.include), '--dashboard-host', dashboard.host, '--dashboard-port', String(dashboardPort),
        '--metrics-auth', String(flags.metricsAuth), '--client-port', String(clientPort)], { passStderr: flags.passStderr });
    started.push(head);
    const headReady = await waitForDaemon<HeadReady>(paths, head, paths.headReady, (h) => h.pid === head.record.pid, config.daemonStartTimeoutS * 1000);
    writeJson(paths.info, { ...session, gcsAddress: headReady.address });
    let raylet: RayletReady | undefined = readJson<RayletReady>(paths.rayletReady);
    if (!existing) {
      const r = await startRayletDaemon(paths, headReady.address, nodeIp, flags, true, config, progress);
      started.push(r.daemon);
      raylet = r.ready;
    }
    registerSession(defaultRegistryDir(config.registryDir), paths.dir);
    if (!options.unlisted) publishNode(config, { kind: 'head', address: headReady.address, dashboardUrl: headReady.dashboardUrl, sessionDir: paths.dir, tokenFile: paths.token, daemon: head.record });
    progress.done();
    printHeadNextSteps(nodeIp, headReady, tokenFile, tempDir, config, !!existing, raylet);
    return await finishStart(paths, started, options, tempDir, config);
  } catch (err) {
    await cleanupOnFailure(started);
    throw err;
  }
}

/**
 * The port remote drivers connect to: the flag, else the previous head's on this session, else
 * 10001; a fixed port is checked before anything starts.
 */
async function clientServerPort(options: StartOptions, previous: HeadReady | undefined, nodeIp: string, gcsPort: number): Promise<number> {
  const port = options.rayClientServerPort !== undefined ? parsePort(options.rayClientServerPort, '--ray-client-server-port')
    : previous?.clientPort ?? DEFAULT_CLIENT_PORT;
  if (port !== 0 && port === gcsPort) throw new UsageError(`the GCS and the ray client server cannot both listen on port ${port}`, 'choose another --ray-client-server-port (default 10001) or --port');
  if (port !== 0 && !(await isPortFree(nodeIp, port))) {
    throw new PortInUseError(`port ${port} on ${nodeIp} is already in use, so the head cannot serve remote drivers (rayts://) there`,
      `another process holds it (see \`ss -ltnp 'sport = :${port}'\`); stop it or choose another port with --ray-client-server-port (0 = any free port)`);
  }
  return port;
}

/** The port of the previous head's HTTP API on this session, which a restarted head takes again. */
function previousDashboardPort(previous: HeadReady | undefined): number | undefined {
  if (!previous?.dashboardUrl) return undefined;
  const port = Number(new URL(previous.dashboardUrl).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

async function startWorker(options: StartOptions, flags: NodeFlags, tempDir: string, config: Config, progress: Progress): Promise<number> {
  // --address auto: the cluster this host runs (a second node on one host), with its session's token.
  const local = isAutoAddress(options.address) ? resolveTarget({ address: options.address, tokenFile: options.tokenFile }, config) : undefined;
  const head = parseAddress(local?.address ?? options.address!);
  const gcsAddress = formatAddress(head.host, head.port);
  const token = local?.token ?? tokenFromEnvironment({ tokenFile: options.tokenFile });
  if (!token) {
    throw new UsageError(`joining ${gcsAddress} needs the cluster token`,
      'copy the head\'s token file here and pass --token-file=FILE (or set RAYTS_TOKEN); `rayts get-auth-token` on the head prints it');
  }
  progress.step(`Contacting the head at ${gcsAddress}…`);
  const client = new GcsClient(gcsAddress, { token, tls: tlsFromEnv(), timeoutMs: config.gcsRpcTimeoutMs });
  let info;
  try {
    info = await client.getClusterInfo();
  } finally {
    client.close();
  }
  const ours = config.testingProtocolVersion || PROTOCOL_VERSION;
  if (info.protocolVersion !== ours) {
    throw new VersionMismatchError(`protocol version mismatch: this node runs rayts ${RAYTS_VERSION} (protocol ${ours}), the head at ${gcsAddress} runs rayts ${info.version} (protocol ${info.protocolVersion})`,
      'install the same rayts release on every node');
  }
  const nodeIp = options.nodeIpAddress ?? (await localAddressToward(head.host, head.port));
  await checkMetricsPort(nodeIp, flags);
  const session = createSession(tempDir, { kind: 'worker', nodeIp, gcsAddress });
  const paths = new SessionPaths(session.sessionDir);
  writeTokenFile(paths.token, token);
  const started: LaunchedDaemon[] = [];
  try {
    const r = await startRayletDaemon(paths, gcsAddress, nodeIp, flags, false, config, progress);
    started.push(r.daemon);
    registerSession(defaultRegistryDir(config.registryDir), paths.dir);
    if (!options.unlisted) publishNode(config, { kind: 'worker', address: gcsAddress, sessionDir: paths.dir, tokenFile: paths.token, daemon: r.daemon.record });
    progress.done();
    const c = colors();
    const title = 'Rayts runtime started.';
    process.stdout.write([
      `Local node IP: ${c.bold(nodeIp)}`, '', '-'.repeat(title.length), c.green(title), '-'.repeat(title.length), '',
      `  Joined cluster ${info.clusterId.slice(0, 12)}… at ${gcsAddress} as node ${r.ready.nodeId.slice(0, 12)}… (raylet ${r.ready.address})`,
      metricsLine(r.ready),
      '  To terminate the rayts processes on this host:',
      c.bold(`    rayts stop${tempDirHint(tempDir, config)}`),
    ].join('\n') + '\n');
    return await finishStart(paths, started, options, tempDir, config);
  } catch (err) {
    await cleanupOnFailure(started);
    throw err;
  }
}

