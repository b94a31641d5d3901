/**
 * `rayts get-auth-token`: prints this host's cluster token (to stdout without a newline, as Ray does,
 * so `$(rayts get-auth-token)` and redirection give the bare token; the newline goes to stderr).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuthenticationError, liveSessions, readTokenFile, SessionPaths, sessionsIn, type Config } from '@rayts/common';

export function getAuthTokenCommand(options: { tempDir?: string }, config: Config): number {
  const tempDir = resolve(options.tempDir ?? config.tmpDir);
  const candidates = [
    join(tempDir, 'state', 'token'),
    ...liveSessions(config, options.tempDir).map((s) => new SessionPaths(s.sessionDir).token),
    ...sessionsIn(tempDir).map((d) => new SessionPaths(d).token),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new AuthenticationError(`no cluster token found under ${tempDir}`,
      'start a head with `rayts start --head` (it creates the token), or pass the --temp-dir the cluster uses');
  }
  process.stdout.write(readTokenFile(file));
  process.stderr.write('\n');
  return 0;
}
