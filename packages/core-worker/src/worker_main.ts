#!/usr/bin/env node
/**
 * Entry point of a worker process, forked by its raylet with an IPC channel. A worker never outlives
 * its raylet: when the channel closes (the raylet exited or was SIGKILLed) it kills its own process
 * group, taking any processes that task code started with it. Task execution arrives in later steps;
 * today a worker registers and waits idle, which is what the pool prestarts.
 */
import { parseArgs } from 'node:util';
import { workerMessages, type RayletToWorker } from './worker_protocol.js';

const { values } = parseArgs({ options: { 'worker-id': { type: 'string' }, 'node-id': { type: 'string' } }, strict: false });
process.title = 'rayts::IDLE';

if (!process.send) {
  process.stderr.write('rayts worker: must be started by a raylet (no IPC channel)\n');
  process.exit(2);
}

function dieWithGroup(code: number): never {
  try {
    // Our pid is our process group id (the raylet forks workers detached).
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    // not a group leader: only ourselves to stop
  }
  process.exit(code);
}

process.on('disconnect', () => dieWithGroup(0));
process.on('message', (msg: RayletToWorker) => {
  if (msg.type === 'exit') dieWithGroup(0);
});

process.send(workerMessages.ready(String(values['worker-id'] ?? ''), process.pid));
