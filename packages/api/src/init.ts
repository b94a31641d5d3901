/**
 * `init` and `shutdown`. Address resolution, as Ray does: `address` or RAYTS_ADDRESS ('auto' = the
 * cluster on this host, 'host:port' = that head, through this host's node); with neither, the
 * cluster this host runs, else a private local cluster that `shutdown` stops. A driver that a raylet
 * started for a submitted job finds its job in the environment (RAYTS_JOB_SUBMISSION_ID, its
 * runtime env in RAYTS_JOB_RUNTIME_ENV, its node in RAYTS_NODE_ID) and registers as that job's driver.
 * Like Ray, it prints one line on stderr saying what it did (see `initLine`).
 */
import {
  ClusterUnreachableError, GcsClient, RaytsError, tlsFromEnv, UsageError, isAlive, isAutoAddress, liveSessions, loadConfig, readJson, readTokenFile, SessionPaths,
  runtimeEnvToJson, type RayletReady, type RuntimeEnv, type SessionInfo,
} from '@rayts/common';
import { CoreWorker, setGlobalWorker } from '@rayts/core-worker';
import { jobRuntimeEnv } from './runtime_env.js';
import { driverState, setState } from './state.js';
import { startLocalCluster, type LocalCluster } from './local_cluster.js';

export interface InitOptions {
  /** 'auto', 'HOST:PORT', or leave out (see above). */
  address?: string;
  /** For a private local cluster: CPUs to offer (default: detected). */
  numCpus?: number;
  resources?: Record<string, number>;
  objectStoreMemory?: number;
  /** The job's working directory: task code's imports resolve against it (default: process.cwd()). */
  jobDir?: string;
  /**
   * The job's runtime env (Ray's): `working_dir` (a local directory, packed and uploaded to the head;
   * every worker of the job runs in it, on every node), `excludes`, `env_vars`, `npm`. Merged over the
   * runtime env of a submitted job.
   */
  runtimeEnv?: RuntimeEnv;
  /** Calling init twice is an error unless this is set. */
  ignoreReinitError?: boolean;
}

interface LocalNode {
  session: SessionInfo;
  raylet: RayletReady;
  tokenFile: string;
}

function liveLocalNodes(): LocalNode[] {
  const out: LocalNode[] = [];
  for (const session of liveSessions(loadConfig())) {
    const paths = new SessionPaths(session.sessionDir);
    const raylet = readJson<RayletReady>(paths.rayletReady);
    if (raylet && isAlive({ pid: raylet.pid, startTime: 0 })) out.push({ session, raylet, tokenFile: paths.token });
  }
  return out;
}

function pickNode(address: string | undefined): LocalNode | undefined {
  const nodes = liveLocalNodes();
  // A submitted job's driver joins through the node that started it.
  const own = process.env.RAYTS_NODE_ID ? nodes.find((n) => n.raylet.nodeId === process.env.RAYTS_NODE_ID) : undefined;
  if (own) return own;
  if (address && !isAutoAddress(address)) {
    const matches = nodes.filter((n) => n.raylet.gcsAddress === address || n.raylet.gcsAddress === address.replace(/^localhost:/, '127.0.0.1:'));
    const match = matches.find((n) => n.session.kind === 'head') ?? matches[0];
    if (!match) {
      throw new ClusterUnreachableError(`no rayts node of the cluster at ${address} runs on this host`,
        `drivers run on a cluster node: start one here with \`rayts start --address=${address} --token-file=FILE\``);
    }
    return match;
  }
  const clusters = new Set(nodes.map((n) => n.raylet.gcsAddress));
  if (clusters.size > 1) {
    throw new UsageError(`several rayts clusters run on this host (${[...clusters].join(', ')})`, 'choose one with ray.init({ address }) or RAYTS_ADDRESS');
  }
  if (nodes.length === 0 && isAutoAddress(address)) {
    throw new ClusterUnreachableError('no rayts cluster runs on this host', 'start one with `rayts start --head`, or call ray.init() without an address for a private one');
  }
  // Several nodes of one cluster on this host (127.0.0.x test setups): the head's is the natural one.
  return nodes.find((n) => n.session.kind === 'head') ?? nodes[0];
}

/**
 * The line init prints on stderr, as Ray's "Connecting to existing Ray cluster at …" / "Started a
 * local Ray instance.".
 */
export type InitOutcome =
  | { kind: 'joined'; gcsAddress: string; nodeId: string; sessionDir: string }
  | { kind: 'started'; gcsAddress: string; tempDir: string };

export function initLine(outcome: InitOutcome): string {
  if (outcome.kind === 'started') {
    return `Started a local rayts instance (head ${outcome.gcsAddress}, temp dir ${outcome.tempDir}; it stops with ray.shutdown() or when this process exits).`;
  }
  return `Connecting to existing rayts cluster at ${outcome.gcsAddress} (node ${outcome.nodeId.slice(0, 12)}…, session ${outcome.sessionDir}).`;
}

export async function init(options: InitOptions = {}): Promise<{ jobId: string; nodeId: string; address: string }> {
  const existing = driverState();
  if (existing) {
    if (options.ignoreReinitError) return { jobId: existing.jobId, nodeId: existing.core.address.nodeId, address: existing.core.welcome.gcsAddress };
    throw new RaytsError('rayts is already initialized', 'call ray.shutdown() first, or pass { ignoreReinitError: true }');
  }
  const address = options.address ?? process.env.RAYTS_ADDRESS;
  let node = pickNode(address);
  let localCluster: LocalCluster | undefined;
  if (!node) {
    localCluster = await startLocalCluster({ numCpus: options.numCpus, resources: options.resources, objectStoreMemory: options.objectStoreMemory });
    node = { session: { sessionDir: '' } as SessionInfo, raylet: localCluster.raylet, tokenFile: localCluster.tokenFile };
  }
  try {
    const token = process.env.RAYTS_TOKEN?.trim() || readTokenFile(node.tokenFile);
    const jobDir = options.jobDir ?? process.cwd();
    const config = loadConfig();
    const runtimeEnv = await jobRuntimeEnv(options.runtimeEnv, { gcsAddress: node.raylet.gcsAddress, token, config });
    const gcs = new GcsClient(node.raylet.gcsAddress, { token, tls: tlsFromEnv(), timeoutMs: config.gcsRpcTimeoutMs });
    let jobId: string;
    try {
      jobId = await gcs.registerJob({
        nodeId: node.raylet.nodeId, driverPid: process.pid, entrypoint: process.argv.slice(1).join(' '), jobDir,
        submissionId: process.env.RAYTS_JOB_SUBMISSION_ID ?? '', runtimeEnvJson: runtimeEnvToJson(runtimeEnv),
      });
    } finally {
      gcs.close();
    }
    const core = await CoreWorker.connect({
      socketPath: node.raylet.socketPath, token, gcsAddress: node.raylet.gcsAddress, role: 'driver', jobId, jobDir,
      runtimeEnvJson: runtimeEnvToJson(runtimeEnv),
    });
    setState({ core, jobId, localCluster });
    setGlobalWorker(core);
    process.stderr.write(initLine(localCluster
      ? { kind: 'started', gcsAddress: node.raylet.gcsAddress, tempDir: localCluster.tempDir }
      : { kind: 'joined', gcsAddress: node.raylet.gcsAddress, nodeId: node.raylet.nodeId, sessionDir: node.session.sessionDir }) + '\n');
    return { jobId, nodeId: core.address.nodeId, address: node.raylet.gcsAddress };
  } catch (err) {
    await localCluster?.stop();
    throw err;
  }
}

export async function shutdown(): Promise<void> {
  const state = driverState();
  if (!state) return;
  setState(undefined);
  setGlobalWorker(undefined);
  // Actors created just before: the head must have them before the job ends (a detached one lives on).
  await state.core.actors.settle();
  // The job's last task events reach the head before it ends the job (which fails what is still pending).
  await state.core.finishTaskEvents();
  await state.core.gcs.finishJob(state.jobId).catch(() => undefined);
  state.core.close();
  await state.localCluster?.stop();
}

export function isInitialized(): boolean {
  return driverState() !== undefined;
}
