// BullMQ + a private Redis server (Debian's redis-server) that this script starts on 127.0.0.1,
// a free port, no persistence, a temp dir, and always stops. The BullMQ Worker runs in a child
// process; the driver adds jobs and learns of completions through QueueEvents.
import { spawn, fork, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { syncRate, batchRate, roundTrips, makePayload, checkLength, freePort, trackChild, stopChild, withTimeout, sleep, now } from '../lib.mjs';

const workerScript = fileURLToPath(new URL('../workers/bullmq-worker.mjs', import.meta.url));
const EVENTS_MAX_LEN = 1_000_000; // default maxLenEvents is 10,000: a 10k batch would lose events

export function redisVersion() {
  try { return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1]; } catch { return undefined; }
}

async function startRedis(scope) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  scope.add(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const child = trackChild(spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning', '--logfile', '',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: false }));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  scope.add(() => stopChild(child, 3000));
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  const deadline = now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${stderr.trim() || child.exitCode}`);
    try {
      await Promise.race([probe.connect(), spawnError]);
      if ((await probe.ping()) === 'PONG') break;
    } catch (err) {
      if (err?.code === 'ENOENT') throw new Error('redis-server not found: apt-get install -y redis-server');
      probe.disconnect();
      if (now() > deadline) throw new Error(`redis-server did not answer on port ${port}: ${stderr.trim()}`);
      await sleep(50);
    }
  }
  scope.add(() => probe.disconnect());
  return { port, client: probe, child };
}

async function startWorker(scope, port, queueName, concurrency) {
  const child = trackChild(fork(workerScript, [String(port), queueName, String(concurrency)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  scope.add(() => stopChild(child, 5000, () => child.send('close')));
  await withTimeout(new Promise((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
    child.once('exit', (c) => reject(new Error(`BullMQ worker exited with ${c}`)));
  }), 30_000, 'BullMQ worker start');
  return child;
}

export async function benchBullmq(cfg, scope) {
  const redis = await startRedis(scope);
  const res = { redisVersion: (await redis.client.info('server')).match(/redis_version:(\S+)/)?.[1], workerConcurrency: cfg.bullmqConcurrency };
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const queueName = 'bench';
  const queue = new Queue(queueName, { connection, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
  scope.add(() => queue.close());
  const events = new QueueEvents(queueName, { connection });
  scope.add(() => events.close());
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  await startWorker(scope, redis.port, queueName, cfg.bullmqConcurrency);

  // Completion of a job by id, from the QueueEvents stream.
  const waiting = new Map();
  const settle = (jobId, err, value) => {
    const w = waiting.get(jobId);
    if (!w) return;
    waiting.delete(jobId);
    err ? w.reject(new Error(`BullMQ job ${jobId} failed: ${err}`)) : w.resolve(value);
  };
  events.on('completed', ({ jobId, returnvalue }) => settle(jobId, null, returnvalue));
  events.on('failed', ({ jobId, failedReason }) => settle(jobId, failedReason));
  let seq = 0;
  const opts = { removeOnComplete: true, removeOnFail: true };
  const done = (jobId) => new Promise((resolve, reject) => waiting.set(jobId, { resolve, reject }));
  const run = async (name, data) => {
    const jobId = `j${++seq}`;
    const p = done(jobId);
    await queue.add(name, data, { ...opts, jobId });
    return p;
  };
  const parse = (v) => (typeof v === 'string' ? JSON.parse(v) : v);

  res.sync = await syncRate(() => run('noop', {}), cfg.syncSeconds);

  const batch = async (n) => {
    const ids = Array.from({ length: n }, () => `j${++seq}`);
    const all = Promise.all(ids.map(done));
    for (let i = 0; i < n; i += 1000) {
      await queue.addBulk(ids.slice(i, i + 1000).map((jobId) => ({ name: 'noop', data: {}, opts: { ...opts, jobId } })));
    }
    return all;
  };
  // Warm-up batch; it also tells whether the full batch finishes in reasonable time (≤ 2 min).
  const warm = await batchRate(batch, 500);
  let n = cfg.bullmqAsyncTasks;
  if (n / warm.perSec > 120) {
    n = Math.max(1000, Math.floor((warm.perSec * 60) / 1000) * 1000);
    res.asyncScaledDown = `${cfg.bullmqAsyncTasks} jobs would take about ${Math.round(cfg.bullmqAsyncTasks / warm.perSec)} s at the warm-up rate; ran ${n}`;
  }
  res.async = await withTimeout(batchRate(batch, n), 300_000, `BullMQ ${n}-job batch`);

  const bytes = cfg.bullmqPayloadBytes;
  const payload = Buffer.from(makePayload(bytes).buffer);
  res.copy = await roundTrips(bytes, cfg.slowCopyReps, async () => {
    const out = parse(await run('echo', { b64: payload.toString('base64') }));
    checkLength('BullMQ echo', Buffer.from(out.b64, 'base64').length, bytes);
  });
  res.redisPeakMemory = (await redis.client.info('memory')).match(/used_memory_peak_human:(\S+)/)?.[1];
  return res;
}
