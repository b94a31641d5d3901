// rayts: a private local cluster started by ray.init(), the same three workloads as the peers,
// the zero-copy put/get path, and the 1 GiB same-node get.
import { pathToFileURL } from 'node:url';
import { syncRate, batchRate, roundTrips, makePayload, checkLength, now, median } from '../lib.mjs';

async function load(cfg) {
  return import(pathToFileURL(cfg.apiPath).href);
}

async function initRay(ray, scope, options) {
  const t0 = now();
  await ray.init(options);
  scope.add(() => ray.shutdown());
  return now() - t0;
}

/** (a) (b) (c) and (c'). */
export async function benchRayts(cfg, scope) {
  const ray = await load(cfg);
  const res = { initMs: await initRay(ray, scope, { numCpus: 2 }) };
  const noop = ray.remote(() => 'ok');
  // First tasks wait for the pool's workers and for the function to be registered.
  for (let i = 0; i < 10; i++) if ((await ray.get(noop.remote())) !== 'ok') throw new Error('rayts: unexpected result');

  res.sync = await syncRate(() => ray.get(noop.remote()), cfg.syncSeconds);
  await ray.get(Array.from({ length: Math.min(1000, cfg.asyncTasks) }, () => noop.remote()));
  res.async = await batchRate((n) => ray.get(Array.from({ length: n }, () => noop.remote())), cfg.asyncTasks);

  const payload = makePayload(cfg.payloadBytes);
  const echo = ray.remote((b) => b);
  await ray.get(echo.remote(new Uint8Array(1024 * 1024))); // warm the path with 1 MiB
  res.copy = await roundTrips(cfg.payloadBytes, cfg.copyReps, async () => {
    const out = await ray.get(echo.remote(payload));
    checkLength('rayts echo', out.byteLength, cfg.payloadBytes);
  });

  // (c') zero copy: put once, a task reads the value's length, the driver gets a view.
  const len = ray.remote((b) => b.length);
  const put = [], task = [], get = [];
  for (let i = 0; i < cfg.copyReps; i++) {
    let t0 = now();
    const ref = await ray.put(payload);
    put.push(now() - t0);
    t0 = now();
    checkLength('rayts task on a put ref', await ray.get(len.remote(ref)), cfg.payloadBytes);
    task.push(now() - t0);
    t0 = now();
    const view = await ray.get(ref);
    get.push(now() - t0);
    checkLength('rayts get of a put ref', view.byteLength, cfg.payloadBytes);
    await ray.free([ref]);
  }
  res.zeroCopy = { bytes: cfg.payloadBytes, putMs: median(put), taskMs: median(task), getMs: median(get), runs: { put, task, get } };
  return res;
}

/** The same-node get of a big Float64Array (1 GiB in a full run): returns a view over shared memory. */
export async function benchRaytsBigGet(cfg, scope) {
  const ray = await load(cfg);
  const res = { bytes: cfg.bigBytes, objectStoreMemory: cfg.bigStoreBytes };
  res.initMs = await initRay(ray, scope, { numCpus: 2, objectStoreMemory: cfg.bigStoreBytes });
  // Warm the read path (code loaded and compiled) on a small stored object, as every case warms up.
  const warm = await ray.put(new Float64Array(1024 * 1024));
  await ray.get(warm);
  await ray.free([warm]);
  const arr = new Float64Array(cfg.bigBytes / 8);
  arr.fill(1.5);
  let t0 = now();
  const ref = await ray.put(arr);
  res.putMs = now() - t0;
  const gets = [];
  let view;
  for (let i = 0; i < 5; i++) {
    t0 = now();
    view = await ray.get(ref);
    gets.push(now() - t0);
    checkLength('rayts big get', view.byteLength, cfg.bigBytes);
  }
  res.firstGetMs = gets[0];
  res.getMs = median(gets.slice(1)); // repeated gets of the same ref
  res.gets = gets;
  res.isCopyOfDriverArray = view.buffer === arr.buffer;
  res.sample = view[view.length - 1];
  view = undefined;
  await ray.free([ref]);
  return res;
}
