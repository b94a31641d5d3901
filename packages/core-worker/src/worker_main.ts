#!/usr/bin/env node
/**
 * Entry point of a worker process, forked by its raylet. It connects to the raylet's local socket and
 * executes the tasks it is sent. A worker never outlives its raylet: when the IPC channel closes (the
 * raylet exited or was SIGKILLed) it kills its own process group, taking any processes that task code
 * started with it.
 */
import { parseArgs } from 'node:util';
import { readTokenFile } from '@rayts/common';
import { CoreWorker } from './core_worker.js';
import { compileFunction } from './function_loader.js';

const { values } = parseArgs({
  options: {
    'worker-id': { type: 'string' }, 'node-id': { type: 'string' }, 'session-dir': { type: 'string' },
    socket: { type: 'string' }, 'gcs-address': { type: 'string' }, 'token-file': { type: 'string' },
  },
  strict: false,
});
process.title = 'rayts::IDLE';

function dieWithGroup(code: number): never {
  try {
    // Our pid is our process group id (the raylet forks workers detached).
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    // not a group leader: only ourselves to stop
  }
  process.exit(code);
}

if (!process.send) {
  process.stderr.write('rayts worker: must be started by a raylet (no IPC channel)\n');
  process.exit(2);
}
process.on('disconnect', () => dieWithGroup(0));

const token = readTokenFile(String(values['token-file']));
const core = await CoreWorker.connect({
  socketPath: String(values.socket),
  token,
  gcsAddress: String(values['gcs-address']),
  role: 'worker',
  workerId: String(values['worker-id']),
}, { compile: compileFunction, onDisconnect: () => dieWithGroup(0) });

// Warm up while idle, so the first task or actor on this worker does not pay for it:
// the head's gRPC channel (connected on first use) and the compiler path for shipped code.
void core.gcs.getClusterInfo().catch(() => undefined);
try {
  compileFunction({ kind: 'function', name: 'warmup', source: '() => 0', hash: 'warmup' }, process.cwd());
} catch {
  // only a warm-up
}
