#!/usr/bin/env node
// The driver of scale.mjs: for each count, submits that many no-op tasks at once (one `remote` call
// each, keeping every ref), gets them all, then drops the refs and collects garbage. Prints one JSON
// line per count: the rate (tasks from the first submission to the last result), the driver's RSS
// before, at its peak (sampled every 20 ms) and after, and the heap after.
//   node --expose-gc scale_driver.mjs <address> <count>...
import * as ray from '../../../packages/api/dist/index.js';

const [address, ...counts] = process.argv.slice(2);
if (!address || counts.length === 0 || typeof global.gc !== 'function') {
  console.error('usage: node --expose-gc scale_driver.mjs <address> <count>...');
  process.exit(2);
}
const MiB = 1024 * 1024;
const rss = () => process.memoryUsage().rss;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/**
 * Collects garbage until the RSS stops falling (finalizers release objects between the rounds), then
 * waits past the core worker's allocator trim (a second after the last release).
 */
async function settle() {
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    global.gc();
    await sleep(200);
    const now = rss();
    if (now > last - MiB) break;
    last = now;
  }
  await sleep(1500);
  global.gc();
}

await ray.init({ address });
const noop = ray.remote(() => 0);
await ray.get(Array.from({ length: 2000 }, () => noop.remote()));
await settle();
const start = rss();
for (const n of counts.map(Number)) {
  await settle();
  const before = rss();
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, 20);
  const t0 = performance.now();
  let refs = new Array(n);
  for (let i = 0; i < n; i++) refs[i] = noop.remote();
  const submitMs = performance.now() - t0;
  await ray.get(refs);
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, rss());
  refs = undefined;
  await settle();
  const after = rss();
  console.log(JSON.stringify({
    n, perSecond: n / seconds, submitMs, startMiB: start / MiB, beforeMiB: before / MiB, peakMiB: peak / MiB, afterMiB: after / MiB,
    peakBytesPerTask: (peak - before) / n, heapAfterMiB: process.memoryUsage().heapUsed / MiB, heapTotalMiB: process.memoryUsage().heapTotal / MiB, externalMiB: process.memoryUsage().external / MiB,
  }));
}
await ray.shutdown();
