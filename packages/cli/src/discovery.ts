/**
 * Finding the cluster a command talks to, and its token. Address: --address, then RAYTS_ADDRESS, then
 * the live nodes on this host: this user's sessions (of --temp-dir if given, else every registered
 * session and the default temp dir) and every user's entries in the host's record of clusters;
 * none or several is a clear error. The address `auto` (either way) means the
 * latter: the cluster this host runs. Token: --token-file, RAYTS_TOKEN,
 * RAYTS_TOKEN_FILE, then the token file of the local node of that cluster (another user's is
 * readable only by that user and root: without it the error says whose cluster it is and where).
 */
import {
  AuthenticationError, ClusterUnreachableError, UsageError, foreignTokenError, hostClusters, isAutoAddress, isWellFormedToken,
  formatAddress, isRemoteAddress, parseAddress, parseRemoteAddress, readNodeToken, readTokenFile, tempDirOf, tlsFromEnv, type Config, type HostCluster, type SessionInfo, type TlsFiles,
} from '@rayts/common';

export { hostClusters, type HostCluster } from '@rayts/common';


export interface TargetOptions {
  address?: string;
  tempDir?: string;
  tokenFile?: string;
}

export interface ClusterTarget {
  address: string;
  token: string;
  tls?: TlsFiles;
  session?: SessionInfo;
  /** The node of this host it was found through, if any. */
  cluster?: HostCluster;
}

/** Two HOST:PORT strings name the same head (localhost = 127.0.0.1). */
export function sameAddress(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/^localhost:/, '127.0.0.1:');
  return norm(a) === norm(b);
}

export function tokenFromEnvironment(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (options.tokenFile) return readTokenFile(options.tokenFile);
  const inline = env.RAYTS_TOKEN?.trim();
  if (inline) {
    if (!isWellFormedToken(inline)) throw new AuthenticationError('RAYTS_TOKEN does not hold a rayts token (64 hex characters)',
      'print the right one on the head with `rayts get-auth-token`');
    return inline;
  }
  if (env.RAYTS_TOKEN_FILE) return readTokenFile(env.RAYTS_TOKEN_FILE);
  return undefined;
}

function describeCluster(c: HostCluster): string {
  return `user ${c.owner.user}, temp dir ${tempDirOf(c)}`;
}

/**
 * The one cluster the nodes on this host belong to. None is a ClusterUnreachableError (exit 3),
 * several a UsageError (exit 2) naming every address and, for other users' clusters, their owner.
 * `asked` names what asked for it (`--address=auto`), for the message.
 */
export function localCluster(clusters: HostCluster[], tempDir: string | undefined, asked?: string): { address: string; cluster: HostCluster } {
  const byAddress = new Map<string, HostCluster>();
  // A head's own entry describes its cluster best (several nodes of one cluster may run here).
  for (const c of [...clusters].sort((a, b) => Number(b.kind === 'head') - Number(a.kind === 'head'))) {
    if (![...byAddress.keys()].some((a) => sameAddress(a, c.address))) byAddress.set(c.address, c);
  }
  const why = asked ? ` (${asked} means the cluster this host runs)` : '';
  if (byAddress.size === 0) {
    throw new ClusterUnreachableError(`no rayts cluster is running on this host${tempDir ? ` under ${tempDir}` : ''}${why}`,
      'start one with `rayts start --head`, or name a remote one with --address HOST:PORT (or RAYTS_ADDRESS)');
  }
  if (byAddress.size > 1) {
    const list = [...byAddress.entries()].map(([a, c]) => `  ${a}  (${describeCluster(c)})`).join('\n');
    throw new UsageError(`several rayts clusters run on this host${why}:\n${list}`, 'choose one with --address HOST:PORT or --temp-dir DIR');
  }
  const [[address, cluster]] = [...byAddress.entries()];
  return { address: address!, cluster: cluster! };
}

export function resolveTarget(options: TargetOptions, config: Config, env: NodeJS.ProcessEnv = process.env): ClusterTarget {
  const clusters = hostClusters(config, options.tempDir);
  const given = options.address ?? env.RAYTS_ADDRESS;
  const from = options.address !== undefined ? '--address' : 'RAYTS_ADDRESS';
  let address: string;
  let cluster: HostCluster | undefined;
  if (given && !isAutoAddress(given)) {
    // A head's remote-driver port (rayts://HOST:PORT) serves the GCS's services too.
    if (isRemoteAddress(given)) {
      const { host, port } = parseRemoteAddress(given, from);
      address = formatAddress(host, port);
    } else {
      parseAddress(given, from);
      address = given;
    }
    const matches = clusters.filter((c) => sameAddress(c.address, address));
    cluster = matches.find((c) => !c.foreign) ?? matches[0];
  } else {
    ({ address, cluster } = localCluster(clusters, options.tempDir, given ? `${from}=auto` : undefined));
  }
  const token = tokenFromEnvironment(options, env) ?? readNodeToken(cluster);
  if (!token) {
    if (cluster?.foreign) throw foreignTokenError(cluster.owner.user, cluster.tokenFile, address);
    throw new AuthenticationError(`no cluster token for ${address}`,
      'pass --token-file FILE or set RAYTS_TOKEN (print the token on the head with `rayts get-auth-token`)');
  }
  return { address, token, tls: tlsFromEnv(env), session: cluster?.session, cluster };
}
