#!/usr/bin/env node
/**
 * Entry point of the head daemon (`rayts start --head` spawns it detached). Arguments carry no
 * secret: the token is read from --token-file.
 */
import { parseArgs } from 'node:util';
import { FileLogger, type LogLevel, loadConfig, readTokenFile, SessionPaths, tlsFromEnv, RaytsError } from '@rayts/common';
import { startHead } from './head.js';

const { values } = parseArgs({
  options: {
    'session-dir': { type: 'string' },
    'state-dir': { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'token-file': { type: 'string' },
  },
  strict: true,
});

function fail(message: string, hint?: string): never {
  process.stderr.write(`rayts head: ${message}${hint ? `\n  ${hint}` : ''}\n`);
  process.exit(1);
}

const sessionDir = values['session-dir'] ?? fail('--session-dir is required');
const paths = new SessionPaths(sessionDir);
// ps shows the role and the session (the argv area is overwritten by the title).
process.title = `rayts-gcs-server --session-dir ${sessionDir}`;
const config = loadConfig();
const logger = new FileLogger({ path: paths.log('gcs_server.log'), component: 'gcs_server', level: config.logLevel as LogLevel, maxBytes: config.logMaxBytes, backupCount: config.logBackupCount });

try {
  const head = await startHead({
    sessionDir,
    stateDir: values['state-dir'] ?? fail('--state-dir is required'),
    host: values.host ?? '127.0.0.1',
    port: Number(values.port ?? '6379'),
    token: readTokenFile(values['token-file'] ?? fail('--token-file is required')),
    config,
    logger,
    tls: tlsFromEnv(),
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    void head.stop().finally(() => { logger.close(); process.exit(0); });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  logger.error('head failed to start', { err });
  if (err instanceof RaytsError) fail(err.message, err.hint);
  throw err;
}
