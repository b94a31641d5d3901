// Limits of the machine and of the transports rayts could use: grpc-js unary RTT (server in a
// forked child), warm memcpy, child_process.fork IPC round trip.
import * as grpc from '@grpc/grpc-js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { service } from '../workers/grpc-service.mjs';
import { syncRate, batchRate, median, trackChild, stopChild, withTimeout, now, GiB } from '../lib.mjs';

const grpcServer = fileURLToPath(new URL('../workers/grpc-server.mjs', import.meta.url));
const ipcEcho = fileURLToPath(new URL('../workers/ipc-echo.mjs', import.meta.url));

function forkChild(scope, script, what) {
  const child = trackChild(fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  scope.add(() => stopChild(child, 3000));
  const exited = new Promise((_, reject) => child.once('exit', (c, s) => reject(new Error(`${what} exited (${c ?? s})`))));
  exited.catch(() => {});
  return { child, exited };
}

/** Closed loop with `inflight` calls outstanding until `n` have completed. */
function closedLoop(call, n, inflight) {
  return new Promise((resolve, reject) => {
    let started = 0, finished = 0;
    const next = () => {
      if (finished === n) return resolve();
      if (started >= n) return;
      started++;
      call().then(() => { finished++; next(); }, reject);
    };
    for (let i = 0; i < Math.min(inflight, n); i++) next();
  });
}

export async function benchGrpc(cfg, scope) {
  const { child, exited } = forkChild(scope, grpcServer, 'grpc server');
  const { port } = await withTimeout(Promise.race([new Promise((r) => child.once('message', r)), exited]), 15_000, 'grpc server start');
  const Client = grpc.makeGenericClientConstructor(service, 'Bench');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  scope.add(() => client.close());
  const empty = Buffer.alloc(0);
  const call = () => new Promise((resolve, reject) => client.Call(empty, (err, out) => (err ? reject(err) : resolve(out))));
  await call();
  const res = {};
  res.sync = await syncRate(call, cfg.syncSeconds);
  const n = Math.max(2000, Math.round(res.sync.perSec * cfg.syncSeconds * 2));
  await closedLoop(call, 1000, 64);
  res.inflight64 = await batchRate((k) => closedLoop(call, k, 64), n);
  return res;
}

export async function benchIpc(cfg, scope) {
  const { child, exited } = forkChild(scope, ipcEcho, 'IPC echo child');
  let pending = new Map(), seq = 0;
  child.on('message', (m) => { const r = pending.get(m.i); pending.delete(m.i); r?.(); });
  const call = () => Promise.race([new Promise((r) => { const i = ++seq; pending.set(i, r); child.send({ i }); }), exited]);
  const res = {};
  res.sync = await syncRate(call, cfg.syncSeconds);
  await closedLoop(call, 1000, 64);
  res.inflight64 = await batchRate((k) => closedLoop(call, k, 64), Math.max(10_000, Math.round(res.sync.perSec * cfg.syncSeconds * 4)));
  pending = new Map();
  return res;
}

/** Buffer.copy into an already-touched destination (no page faults): the bandwidth of a warm memcpy. */
export async function benchMemcpy(cfg) {
  const bytes = cfg.bigBytes;
  const src = Buffer.allocUnsafeSlow(bytes).fill(7);
  const dst = Buffer.allocUnsafeSlow(bytes).fill(0);
  src.copy(dst); // warm
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const t0 = now();
    src.copy(dst);
    runs.push(now() - t0);
  }
  const ms = median(runs);
  return { bytes, ms, runs, gibPerSec: bytes / GiB / (ms / 1000) };
}
