#!/usr/bin/env node
/** Entry point of the raylet daemon. The token comes from --token-file, never from the command line. */
import { parseArgs } from 'node:util';
import { parseBooleanFlag, parsePort, readTokenFile, runDaemon, tlsFromEnv } from '@rayts/common';
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
    'metrics-export-port': { type: 'string' },
    'metrics-auth': { type: 'string' },
  },
  strict: true,
});

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

await runDaemon({
  role: 'raylet', title: 'rayts-raylet', component: 'raylet', sessionDir: values['session-dir'],
  start: async ({ sessionDir, config, logger, fail }) => {
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
      metricsExportPort: parsePort(values['metrics-export-port'] ?? '0', '--metrics-export-port'),
      metricsAuth: parseBooleanFlag(values['metrics-auth'] ?? 'true', '--metrics-auth'),
      config,
      logger,
      tls: tlsFromEnv(),
      onFatal: (reason, code) => {
        process.stderr.write(`rayts raylet: ${reason}\n`);
        logger.close();
        process.exit(code);
      },
    });
    return { stop: (signal) => raylet.stop(`received ${signal}`, true) };
  },
});
