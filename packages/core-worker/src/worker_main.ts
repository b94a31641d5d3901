#!/usr/bin/env node
/**
 * Entry point of a worker process, forked by its raylet. It connects to the raylet's local socket and
 * executes the tasks it is sent. A worker never outlives its raylet: when the IPC channel closes (the
 * raylet exited or was SIGKILLed) it kills its own process group, taking any processes that task code
 * started with it; it first sends its buffered task events, waiting at most
 * RAYTS_TASK_EVENTS_FLUSH_TIMEOUT_MS (also on SIGTERM, which the raylet stops its workers with).
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
let core: CoreWorker | undefined;
let leaving = false;

/** Leaves with the group, after sending the task events still buffered (bounded by RAYTS_TASK_EVENTS_FLUSH_TIMEOUT_MS). */
function leave(): void {
  if (leaving) return;
  leaving = true;
  void (core?.finishTaskEvents() ?? Promise.resolve()).catch(() => undefined).finally(() => dieWithGroup(0));
}

process.on('disconnect', leave);
// The raylet stops its workers with SIGTERM (then SIGKILL after its grace period).
process.on('SIGTERM', leave);

const token = readTokenFile(String(values['token-file']));
core = await CoreWorker.connect({
  socketPath: String(values.socket),
  token,
  gcsAddress: String(values['gcs-address']),
  role: 'worker',
  workerId: String(values['worker-id']),
}, { compile: compileFunction, onDisconnect: leave });

// Warm up while idle, so the first task or actor on this worker does not pay for it:
// the head's gRPC channel (connected on first use) and the compiler path for shipped code.
void core.gcs.getClusterInfo().catch(() => undefined);
try {
  compileFunction({ kind: 'function', name: 'warmup', source: '() => 0', hash: 'warmup' }, process.cwd());
} catch {
  // only a warm-up
}
