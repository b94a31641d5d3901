#!/usr/bin/env node
// How long an actor takes to be ready when the worker pool is warm (issue 4: ≤ 20 ms): from
// `Actor.remote()` to the answer of its first call, on a private one-node cluster. Between two
// creations the script waits until the pool has an idle worker again (a created actor takes one):
// the pool starts its replacement 100 ms after a creation and a Node worker takes 0.4-0.6 s to boot
// on this 2-vCPU VM, so the default gap of 1 s leaves the pool warm and quiet (a boot still running
// would compete for the CPUs with the next creation).
//   node scripts/bench/actor_startup.mjs [count=30] [gapMs=1000]
import * as ray from '../../packages/api/dist/index.js';

const count = Number(process.argv[2] ?? 30);
const gapMs = Number(process.argv[3] ?? 1000);
await ray.init();
const Ping = ray.remote({ numCpus: 0 }, class Ping { ping() { return 'pong'; } });
const warm = ray.remote(() => 'warm');
await ray.get(warm.remote());
const times = [];
for (let i = 0; i < count; i++) {
  await new Promise((r) => setTimeout(r, gapMs));
  const t0 = performance.now();
  const a = Ping.remote();
  await ray.get(a.ping.remote());
  times.push(performance.now() - t0);
  await ray.kill(a);
}
await ray.shutdown();
times.sort((a, b) => a - b);
const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
console.log(`actor ready on a warm pool: median ${q(0.5)} ms, p90 ${q(0.9)} ms, min ${q(0)} ms, max ${q(1)} ms (${count} actors)`);
