/**
 * `ray.init('rayts://HOST:PORT')`: a driver on a machine that runs no rayts node (a laptop, a
 * notebook). It opens a session with the head's client endpoint (--ray-client-server-port, 10001 by
 * default) and runs a whole core worker over it: tasks, actors, placement groups and objects work as
 * on a node, and the head's GCS services are reached on the same port. Nothing of this host is used:
 * no session dir, no local raylet, no shared memory.
 */
import { GcsClient, UsageError, formatAddress, loadConfig, parseRemoteAddress, readTokenFile, runtimeEnvToJson, tlsFromEnv, type RuntimeEnv } from '@rayts/common';
import { CoreWorker, TunnelClient } from '@rayts/core-worker';
import { jobRuntimeEnv } from './runtime_env.js';

export interface RemoteInitOptions {
  token?: string;
  tokenFile?: string;
  runtimeEnv?: RuntimeEnv;
}

export interface RemoteDriver {
  core: CoreWorker;
  jobId: string;
  tunnel: TunnelClient;
  /** The line init prints. */
  line: string;
}

/** The token: given, from a file given, RAYTS_TOKEN, RAYTS_TOKEN_FILE; else a UsageError saying how to pass it. */
function remoteToken(options: RemoteInitOptions, address: string): string {
  if (options.token !== undefined) {
    if (options.token.trim() === '') throw new UsageError('init({ token }) is empty', 'pass the cluster token (`rayts get-auth-token` on the head prints it)');
    return options.token.trim();
  }
  if (options.tokenFile !== undefined) return readTokenFile(options.tokenFile);
  const inline = process.env.RAYTS_TOKEN?.trim();
  if (inline) return inline;
  if (process.env.RAYTS_TOKEN_FILE) return readTokenFile(process.env.RAYTS_TOKEN_FILE);
  throw new UsageError(`connecting to ${address} needs the cluster token`,
    'pass ray.init(address, { token }) or { tokenFile: FILE }, or set RAYTS_TOKEN or RAYTS_TOKEN_FILE; `rayts get-auth-token` on the head prints it');
}

export async function initRemote(address: string, options: RemoteInitOptions): Promise<RemoteDriver> {
  const { host, port } = parseRemoteAddress(address);
  const token = remoteToken(options, address);
  const config = loadConfig();
  const tunnel = await TunnelClient.connect({ host, port, token, tls: tlsFromEnv() }, config);
  try {
    // The head serves its GCS services on the client port too: one port to open for a remote driver.
    const gcsAddress = formatAddress(host, port);
    const runtimeEnv = await jobRuntimeEnv(options.runtimeEnv, { gcsAddress, token, config });
    const runtimeEnvJson = runtimeEnvToJson(runtimeEnv);
    const gcs = new GcsClient(gcsAddress, { token, tls: tlsFromEnv(), timeoutMs: config.gcsRpcTimeoutMs });
    let jobId: string;
    try {
      jobId = await gcs.registerJob({
        nodeId: tunnel.welcome.nodeId, driverPid: process.pid, entrypoint: process.argv.slice(1).join(' '), jobDir: '',
        submissionId: '', runtimeEnvJson,
      });
    } finally {
      gcs.close();
    }
    const core = await CoreWorker.connect({
      socketPath: '', token, gcsAddress, role: 'driver', jobId, jobDir: '', runtimeEnvJson, remote: { link: tunnel.link, objects: tunnel.objects },
    });
    const line = `Connected to the rayts cluster at ${tunnel.address} (remote client; session ${tunnel.welcome.sessionId.slice(0, 12)}…, head node ${tunnel.welcome.nodeId.slice(0, 12)}… at ${tunnel.welcome.nodeIp}).`;
    return { core, jobId, tunnel, line };
  } catch (err) {
    tunnel.close();
    throw err;
  }
}
