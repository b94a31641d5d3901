/**
 * Finding the cluster a command talks to, and its token. Address: --address, then RAYTS_ADDRESS, then
 * the live sessions on this host (of --temp-dir if given, else every registered session and the
 * default temp dir); none or several is a clear error. Token: --token-file, RAYTS_TOKEN,
 * RAYTS_TOKEN_FILE, then the token file of the local session of that cluster.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  AuthenticationError, ClusterUnreachableError, UsageError, isWellFormedToken, liveSessions, parseAddress, readTokenFile,
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

export function resolveTarget(options: TargetOptions, config: Config, env: NodeJS.ProcessEnv = process.env): ClusterTarget {
  const sessions = liveSessions(config, options.tempDir);
  let address = options.address ?? env.RAYTS_ADDRESS;
  let session: SessionInfo | undefined;
  if (address) {
    parseAddress(address);
    session = sessions.find((s) => sameAddress(sessionGcsAddress(s), address!));
  } else {
    const byAddress = new Map<string, SessionInfo>();
    for (const s of sessions) if (!byAddress.has(sessionGcsAddress(s))) byAddress.set(sessionGcsAddress(s), s);
    if (byAddress.size === 0) {
      throw new ClusterUnreachableError(`no rayts cluster is running on this host${options.tempDir ? ` under ${options.tempDir}` : ''}`,
        'start one with `rayts start --head`, or name a remote one with --address HOST:PORT (or RAYTS_ADDRESS)');
    }
    if (byAddress.size > 1) {
      const list = [...byAddress.entries()].map(([a, s]) => `  ${a}  (temp dir ${s.tempDir})`).join('\n');
      throw new UsageError(`several rayts clusters run on this host:\n${list}`, 'choose one with --address HOST:PORT or --temp-dir DIR');
    }
    [[address, session]] = [...byAddress.entries()];
  }
  const token = tokenFromEnvironment(options, env) ?? (session && existsSync(new SessionPaths(session.sessionDir).token)
    ? readFileSync(new SessionPaths(session.sessionDir).token, 'utf8').trim() : undefined);
  if (!token) {
    throw new AuthenticationError(`no cluster token for ${address}`,
      'pass --token-file FILE or set RAYTS_TOKEN (print the token on the head with `rayts get-auth-token`)');
  }
  return { address: address!, token, tls: tlsFromEnv(env), session };
}
