// workerpool: 2 worker threads, and 2 child processes. (c) for threads by copy and by transfer;
// for processes by JSON over child_process IPC, in a helper process (it needs several GB of heap).
import workerpool from 'workerpool';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { syncRate, batchRate, roundTrips, makePayload, checkLength, median, trackChild, stopChild, MiB } from '../lib.mjs';

const script = fileURLToPath(new URL('../workers/workerpool-worker.cjs', import.meta.url));
const copyHelper = fileURLToPath(new URL('../workers/workerpool-process-copy.mjs', import.meta.url));

async function tasks(pool, cfg, res) {
  res.sync = await syncRate(() => pool.exec('noop', []), cfg.syncSeconds);
  await Promise.all(Array.from({ length: 1000 }, () => pool.exec('noop', [])));
  res.async = await batchRate((n) => Promise.all(Array.from({ length: n }, () => pool.exec('noop', []))), cfg.asyncTasks);
}

export async function benchWorkerpoolThreads(cfg, scope) {
  const pool = workerpool.pool(script, { minWorkers: 2, maxWorkers: 2, workerType: 'thread' });
  scope.add(() => pool.terminate(true));
  const res = {};
  await tasks(pool, cfg, res);
  const payload = makePayload(cfg.payloadBytes);
  res.copy = await roundTrips(cfg.payloadBytes, cfg.copyReps, async () => {
    const out = await pool.exec('echo', [payload]);
    checkLength('workerpool thread echo', out.byteLength, cfg.payloadBytes);
  });
  let buf = makePayload(cfg.payloadBytes);
  res.transfer = await roundTrips(cfg.payloadBytes, cfg.copyReps, async () => {
    buf = await pool.exec('echoTransfer', [buf], { transfer: [buf.buffer] });
    checkLength('workerpool thread transfer', buf.byteLength, cfg.payloadBytes);
  });
  return res;
}

export async function benchWorkerpoolProcesses(cfg, scope) {
  const pool = workerpool.pool(script, { minWorkers: 2, maxWorkers: 2, workerType: 'process' });
  scope.add(() => pool.terminate(true));
  const res = {};
  await tasks(pool, cfg, res);
  await pool.terminate(true);

  // (c): JSON through IPC; one worker, in its own process with a large heap and a deadline.
  const bytes = cfg.processPayloadBytes;
  const child = trackChild(spawn(process.execPath, ['--max-old-space-size=12288', copyHelper, String(bytes), String(cfg.slowCopyReps)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  scope.add(() => stopChild(child, 2000));
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((r) => child.once('exit', (c, s) => r(c ?? s)));
  let parsed;
  try { parsed = JSON.parse(out.trim().split('\n').pop()); } catch { /* below */ }
  if (!parsed || parsed.error) {
    res.copyError = parsed?.error ?? `helper exited with ${code}: ${err.trim().split('\n').slice(-2).join(' ') || 'no output'}`;
    return res;
  }
  const ms = median(parsed.runs);
  res.copy = { ms, runs: parsed.runs, bytes, mibPerSec: (2 * bytes) / MiB / (ms / 1000), shape: parsed.shape, peakRssMiB: parsed.peakRssMiB };
  return res;
}
