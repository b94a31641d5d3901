#!/usr/bin/env node
/** Entry point of the raylet daemon. The token comes from --token-file, never from the command line. */
import { parseArgs } from 'node:util';
import { FileLogger, type LogLevel, loadConfig, readTokenFile, SessionPaths, tlsFromEnv, RaytsError } from '@rayts/common';
import { startRaylet } from './raylet.js';

const { values } = parseArgs({
  options: {
    'session-dir': { type: 'string' },
    'gcs-address': { type: 'string' },
    'node-ip-address': { type: 'string' },
    'node-manager-port': { type: 'string' },
    'token-file': { type: 'string' },
    'num-cpus': { type: 'string' },
    'num-gpus': { type: 'string' },
    memory: { type: 'string' },
    'object-store-memory': { type: 'string' },
    resources: { type: 'string' },
    labels: { type: 'string' },
    head: { type: 'boolean' },
    'object-spilling-directory': { type: 'string' },
  },
  strict: true,
});

function fail(message: string, hint?: string): never {
  process.stderr.write(`rayts raylet: ${message}${hint ? `\n  ${hint}` : ''}\n`);
  process.exit(1);
}
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

const sessionDir = values['session-dir'] ?? fail('--session-dir is required');
const paths = new SessionPaths(sessionDir);
// ps shows the role and the session (the argv area is overwritten by the title).
process.title = `rayts-raylet --session-dir ${sessionDir}`;
const config = loadConfig();
const logger = new FileLogger({ path: paths.log('raylet.log'), component: 'raylet', level: config.logLevel as LogLevel, maxBytes: config.logMaxBytes, backupCount: config.logBackupCount });

try {
  const raylet = await startRaylet({
    sessionDir,
    gcsAddress: values['gcs-address'] ?? fail('--gcs-address is required'),
    nodeIp: values['node-ip-address'] ?? '127.0.0.1',
    port: Number(values['node-manager-port'] ?? '0'),
    token: readTokenFile(values['token-file'] ?? fail('--token-file is required')),
    tokenFile: values['token-file']!,
    flags: {
      numCpus: num(values['num-cpus']), numGpus: num(values['num-gpus']), memory: num(values.memory),
      objectStoreMemory: num(values['object-store-memory']),
      custom: JSON.parse(values.resources ?? '{}') as Record<string, number>,
    },
    labels: JSON.parse(values.labels ?? '{}') as Record<string, string>,
    isHead: values.head ?? false,
    spillDir: values['object-spilling-directory'],
    config,
    logger,
    tls: tlsFromEnv(),
    onFatal: (reason, code) => {
      process.stderr.write(`rayts raylet: ${reason}\n`);
      logger.close();
      process.exit(code);
    },
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void raylet.stop(`received ${signal}`, true).finally(() => { logger.close(); process.exit(0); });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  logger.error('raylet failed to start', { err });
  if (err instanceof RaytsError) fail(err.message, err.hint);
  throw err;
}
