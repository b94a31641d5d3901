/**
 * Finding the cluster a command talks to, and its token. Address: --address, then RAYTS_ADDRESS, then
 * the live sessions on this host (of --temp-dir if given, else every registered session and the
 * default temp dir); none or several is a clear error. The address `auto` (either way) means the
 * latter: the cluster this host runs. Token: --token-file, RAYTS_TOKEN,
 * RAYTS_TOKEN_FILE, then the token file of the local session of that cluster.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  AuthenticationError, ClusterUnreachableError, UsageError, isAutoAddress, isWellFormedToken, liveSessions, parseAddress, readTokenFile,
  sessionGcsAddress, SessionPaths, tlsFromEnv, type Config, type SessionInfo, type TlsFiles,
} from '@rayts/common';


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

/**
 * The one cluster the live sessions on this host belong to. None is a ClusterUnreachableError (exit
 * 3), several a UsageError (exit 2) naming every address. `asked` names what asked for it
 * (`--address=auto`), for the message.
 */
export function localCluster(sessions: SessionInfo[], tempDir: string | undefined, asked?: string): { address: string; session: SessionInfo } {
  const byAddress = new Map<string, SessionInfo>();
  for (const s of sessions) if (!byAddress.has(sessionGcsAddress(s))) byAddress.set(sessionGcsAddress(s), s);
  const why = asked ? ` (${asked} means the cluster this host runs)` : '';
  if (byAddress.size === 0) {
    throw new ClusterUnreachableError(`no rayts cluster is running on this host${tempDir ? ` under ${tempDir}` : ''}${why}`,
      'start one with `rayts start --head`, or name a remote one with --address HOST:PORT (or RAYTS_ADDRESS)');
  }
  if (byAddress.size > 1) {
    const list = [...byAddress.entries()].map(([a, s]) => `  ${a}  (temp dir ${s.tempDir})`).join('\n');
    throw new UsageError(`several rayts clusters run on this host${why}:\n${list}`, 'choose one with --address HOST:PORT or --temp-dir DIR');
  }
  const [[address, session]] = [...byAddress.entries()];
  return { address: address!, session: session! };
}

export function resolveTarget(options: TargetOptions, config: Config, env: NodeJS.ProcessEnv = process.env): ClusterTarget {
  const sessions = liveSessions(config, options.tempDir);
  const given = options.address ?? env.RAYTS_ADDRESS;
  const from = options.address !== undefined ? '--address' : 'RAYTS_ADDRESS';
  let address: string;
  let session: SessionInfo | undefined;
  if (given && !isAutoAddress(given)) {
    parseAddress(given, from);
    address = given;
    session = sessions.find((s) => sameAddress(sessionGcsAddress(s), given));
  } else {
    ({ address, session } = localCluster(sessions, options.tempDir, given ? `${from}=auto` : undefined));
  }
  const token = tokenFromEnvironment(options, env) ?? (session && existsSync(new SessionPaths(session.sessionDir).token)
    ? readFileSync(new SessionPaths(session.sessionDir).token, 'utf8').trim() : undefined);
  if (!token) {
    throw new AuthenticationError(`no cluster token for ${address}`,
      'pass --token-file FILE or set RAYTS_TOKEN (print the token on the head with `rayts get-auth-token`)');
  }
  return { address, token, tls: tlsFromEnv(env), session };
}
