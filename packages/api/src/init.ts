/**
 * `init` and `shutdown`. Address resolution, as Ray does: `address` or RAYTS_ADDRESS ('auto' = RAYTS_ADDRESS
 * if set, else the cluster on this host; 'host:port' = that head, through this host's node;
 * 'rayts://host:port' = a remote head's client port, see remote_init.ts); with neither, the
 * cluster this host runs (this user's or another user's, found in the host's record of clusters:
 * joining another user's node needs its token and membership of its owner's group), else a
 * private local cluster that `shutdown` stops. A driver that a raylet
 * started for a submitted job finds its job in the environment (RAYTS_JOB_SUBMISSION_ID, its
 * runtime env in RAYTS_JOB_RUNTIME_ENV, its node in RAYTS_NODE_ID) and registers as that job's driver.
 * Like Ray, it prints one line on stderr saying what it did (see `initLine`).
 */
import {
  ClusterPermissionError, ClusterUnreachableError, GcsClient, RaytsError, tlsFromEnv, UsageError, currentOwner, foreignTokenError, hostClusters, isAlive,
  isAutoAddress, isRemoteAddress, loadConfig, readJson, readNodeToken, readTokenFile, SessionPaths, runtimeEnvToJson, type HostCluster, type RayletReady, type RuntimeEnv,
} from '@rayts/common';
import { CoreWorker, setGlobalWorker } from '@rayts/core-worker';
import { jobRuntimeEnv } from './runtime_env.js';
import { driverState, setState } from './state.js';
import { startLocalCluster, type LocalCluster } from './local_cluster.js';
import { initRemote } from './remote_init.js';

export interface InitOptions {
  /**
   * 'auto', 'HOST:PORT', 'rayts://HOST:PORT' (a remote head's client port, from a machine that runs
   * no node), or leave out (see above).
   */
  address?: string;
  /** The cluster token (for rayts://; otherwise read from the node's session). Or `tokenFile`, RAYTS_TOKEN, RAYTS_TOKEN_FILE. */
  token?: string;
  tokenFile?: string;
  /** The namespace of this job's named actors: where `remote` creates them and `getActor` looks (default 'default'). */
  namespace?: string;
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
  cluster: HostCluster;
  /** Undefined when this user cannot read it (another user's node, out of its group). */
  raylet?: RayletReady;
}

/** A node of this host that a driver can join: its raylet, its token file, its session. */
interface JoinableNode {
  raylet: RayletReady;
  tokenFile: string;
  sessionDir: string;
  cluster?: HostCluster;
}

function readRaylet(cluster: HostCluster): RayletReady | undefined {
  return readJson<RayletReady>(new SessionPaths(cluster.sessionDir).rayletReady);
}

/** The live nodes of this host, this user's and others' (whose raylet may be out of reach). */
function liveLocalNodes(): LocalNode[] {
  const out: LocalNode[] = [];
  for (const cluster of hostClusters(loadConfig())) {
    const raylet = readRaylet(cluster);
    if (raylet ? isAlive({ pid: raylet.pid, startTime: 0 }) : cluster.foreign) out.push({ cluster, raylet });
  }
  return out;
}

const sameHead = (a: string, b: string) => a.replace(/^localhost:/, '127.0.0.1:') === b.replace(/^localhost:/, '127.0.0.1:');

function pickNode(address: string | undefined): LocalNode | undefined {
  const nodes = liveLocalNodes();
  // A submitted job's driver joins through the node that started it.
  const own = process.env.RAYTS_NODE_ID ? nodes.find((n) => n.raylet?.nodeId === process.env.RAYTS_NODE_ID) : undefined;
  if (own) return own;
  const headFirst = (list: LocalNode[]) => list.find((n) => !n.cluster.foreign && n.cluster.kind === 'head') ?? list.find((n) => !n.cluster.foreign)
    ?? list.find((n) => n.cluster.kind === 'head') ?? list[0];
  if (address && !isAutoAddress(address)) {
    const match = headFirst(nodes.filter((n) => sameHead(n.cluster.address, address)));
    if (!match) {
      throw new ClusterUnreachableError(`no rayts node of the cluster at ${address} runs on this host`,
        `drivers run on a cluster node: start one here with \`rayts start --address=${address} --token-file=FILE\``);
    }
    return match;
  }
  const clusters = new Map<string, HostCluster>();
  for (const n of nodes) if (![...clusters.keys()].some((a) => sameHead(a, n.cluster.address))) clusters.set(n.cluster.address, n.cluster);
  if (clusters.size > 1) {
    const list = [...clusters.entries()].map(([a, c]) => `${a} (user ${c.owner.user})`).join(', ');
    throw new UsageError(`several rayts clusters run on this host (${list})`, 'choose one with ray.init({ address }) or RAYTS_ADDRESS');
  }
  if (nodes.length === 0 && isAutoAddress(address)) {
    throw new ClusterUnreachableError('no rayts cluster runs on this host', 'start one with `rayts start --head`, or call ray.init() without an address for a private one');
  }
  // Several nodes of one cluster on this host (127.0.0.x test setups): the head's is the natural one.
  return headFirst(nodes);
}

/**
 * Another user's node: its sockets and object store are open to the owner's group only, and its
 * token is the owner's (this user passes it with RAYTS_TOKEN or RAYTS_TOKEN_FILE).
 */
function joinable(node: LocalNode): JoinableNode {
  const { cluster } = node;
  const me = currentOwner();
  if (cluster.foreign && me.uid !== 0 && !process.getgroups?.().includes(cluster.owner.gid)) {
    throw new ClusterPermissionError(
      `the rayts cluster of user ${cluster.owner.user} at ${cluster.address} shares this node (session ${cluster.sessionDir}) with the members of group ${cluster.owner.group}, and user ${me.user} is not one`,
      `add the user to the group (\`sudo usermod -aG ${cluster.owner.group} ${me.user}\`), then log in again; or run the driver as ${cluster.owner.user}`);
  }
  if (!node.raylet) {
    throw new ClusterPermissionError(
      `cannot read ${new SessionPaths(cluster.sessionDir).rayletReady} of the rayts cluster of user ${cluster.owner.user} at ${cluster.address}`,
      `the session dir must be mode 0750 with group ${cluster.owner.group} and every directory above it must let others through (chmod o+x); sessions made by an older rayts are 0700: restart the node`);
  }
  if (cluster.foreign && me.uid !== 0 && !node.raylet.arenaShared) {
    throw new ClusterPermissionError(
      `the rayts node of user ${cluster.owner.user} at ${cluster.address} keeps its object store private to ${cluster.owner.user} (session ${cluster.sessionDir}), so drivers of other users cannot run on it`,
      `the owner starts the node with RAYTS_OBJECT_STORE_SHARE_WITH_GROUP=1 to share it with group ${cluster.owner.group}; or run the driver as ${cluster.owner.user}, or submit it as a job (\`rayts job submit\`)`);
  }
  return { raylet: node.raylet, tokenFile: cluster.tokenFile, sessionDir: cluster.sessionDir, cluster };
}

/** RAYTS_TOKEN, RAYTS_TOKEN_FILE, then the node's token file (another user's: a clear error saying whose and where). */
function driverToken(node: JoinableNode): string {
  const inline = process.env.RAYTS_TOKEN?.trim();
  if (inline) return inline;
  if (process.env.RAYTS_TOKEN_FILE) return readTokenFile(process.env.RAYTS_TOKEN_FILE);
  if (node.cluster?.foreign) {
    const token = readNodeToken(node.cluster);
    if (!token) throw foreignTokenError(node.cluster.owner.user, node.tokenFile, node.cluster.address);
    return token;
  }
  return readTokenFile(node.tokenFile);
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

/**
 * Connects this driver to a cluster (see the module comment): `init()`, `init({ address, … })`, or
 * Ray's `init('rayts://HOST:PORT', { token })`.
 */
export async function init(addressOrOptions: string | InitOptions = {}, more: InitOptions = {}): Promise<{ jobId: string; nodeId: string; address: string }> {
  const options = typeof addressOrOptions === 'string' ? { ...more, address: addressOrOptions } : addressOrOptions;
  const existing = driverState();
  if (existing) {
    if (options.ignoreReinitError) return { jobId: existing.jobId, nodeId: existing.core.address.nodeId, address: existing.address };
    throw new RaytsError('rayts is already initialized', 'call ray.shutdown() first, or pass { ignoreReinitError: true }');
  }
  const namespace = checkedNamespace(options.namespace);
  // As Ray's: 'auto' first looks at the environment (RAYTS_ADDRESS), then at this host.
  const fromEnv = process.env.RAYTS_ADDRESS?.trim() || undefined;
  const address = options.address === undefined || (isAutoAddress(options.address) && fromEnv) ? fromEnv ?? options.address : options.address;
  if (isRemoteAddress(address)) {
    const remote = await initRemote(address, options);
    setState({ core: remote.core, jobId: remote.jobId, namespace, address: remote.tunnel.address });
    setGlobalWorker(remote.core);
    process.stderr.write(remote.line + '\n');
    return { jobId: remote.jobId, nodeId: remote.core.address.nodeId, address: remote.tunnel.address };
  }
  const found = pickNode(address);
  let node: JoinableNode;
  let localCluster: LocalCluster | undefined;
  if (found) {
    node = joinable(found);
  } else {
    localCluster = await startLocalCluster({ numCpus: options.numCpus, resources: options.resources, objectStoreMemory: options.objectStoreMemory });
    node = { raylet: localCluster.raylet, tokenFile: localCluster.tokenFile, sessionDir: '' };
  }
  try {
    const token = localCluster ? readTokenFile(node.tokenFile) : driverToken(node);
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
    setState({ core, jobId, localCluster, namespace, address: node.raylet.gcsAddress });
    setGlobalWorker(core);
    process.stderr.write(initLine(localCluster
      ? { kind: 'started', gcsAddress: node.raylet.gcsAddress, tempDir: localCluster.tempDir }
      : { kind: 'joined', gcsAddress: node.raylet.gcsAddress, nodeId: node.raylet.nodeId, sessionDir: node.sessionDir }) + '\n');
    return { jobId, nodeId: core.address.nodeId, address: node.raylet.gcsAddress };
  } catch (err) {
    await localCluster?.stop();
    throw err;
  }
}

function checkedNamespace(namespace: string | undefined): string | undefined {
  if (namespace === undefined) return undefined;
  if (typeof namespace !== 'string' || namespace.trim() === '' || namespace.length > 256) {
    throw new UsageError(`init({ namespace }) must be a non-empty name of at most 256 characters, got ${JSON.stringify(namespace)}`);
  }
  return namespace;
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
