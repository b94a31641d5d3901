#!/usr/bin/env node
/**
 * Entry point of the head daemon (`rayts start --head` spawns it detached). Arguments carry no
 * secret: the token is read from --token-file.
 */
import { parseArgs } from 'node:util';
import { readTokenFile, runDaemon, tlsFromEnv } from '@rayts/common';
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

await runDaemon({
  role: 'head', title: 'rayts-gcs-server', component: 'gcs_server', sessionDir: values['session-dir'],
  start: async ({ sessionDir, config, logger, fail }) => {
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
    return { stop: () => head.stop() };
  },
});
