// The spill benchmark's driver (forked by scripts/bench/spill.mjs, which passes the API path, the
// head's address, N and the object size): puts N distinct objects keeping every ref (the store is
// a fifth of their size, so most of them spill), then gets each back and checks it byte-exact.
// Between the phases it asks its parent (IPC) to read the raylet's counters, so the put phase's
// figures are not mixed with the restores'. Sends { putMs, getMs[], verifyMs } at the end.
const [apiPath, address, nArg, bytesArg] = process.argv.slice(2);
const n = Number(nArg);
const bytes = Number(bytesArg);
const ray = await import(apiPath);

const PAGE = 4096;
/** A cheap pattern, touched before any timing: a 64 KiB block repeated. */
const base = new Uint8Array(bytes);
{
  const block = new Uint8Array(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (Math.imul(i, 2654435761) >>> 24) & 0xff;
  for (let at = 0; at < bytes; at += block.length) base.set(block.subarray(0, Math.min(block.length, bytes - at)), at);
}
/** Object i: the base pattern with (i + 1) and the page number stamped at the start of every page. */
function stamp(into, i) {
  const dv = new DataView(into.buffer, into.byteOffset, into.byteLength);
  for (let at = 0; at + 8 <= into.byteLength; at += PAGE) {
    dv.setUint32(at, i + 1, true);
    dv.setUint32(at + 4, at / PAGE, true);
  }
}
const payload = new Uint8Array(bytes);
payload.set(base);
const expected = Buffer.alloc(bytes);

const ask = (msg) => new Promise((resolve) => {
  process.once('message', resolve);
  process.send(msg);
});

await ray.init({ address });
// Warm the path (connection, first create) with one small object the store keeps in memory.
const warm = await ray.put(new Uint8Array(1024 * 1024));
await ray.get(warm);
await ray.free([warm]);
await ask({ phase: 'ready' });

const refs = [];
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  stamp(payload, i);
  refs.push(await ray.put(payload));
}
const putMs = performance.now() - t0;
await ask({ phase: 'put', putMs });

const getMs = [];
let verifyMs = 0;
for (let i = 0; i < n; i++) {
  const t = performance.now();
  let view = await ray.get(refs[i]);
  getMs.push(performance.now() - t);
  const v = performance.now();
  expected.set(base);
  stamp(expected, i);
  if (!(view instanceof Uint8Array) || view.byteLength !== bytes) throw new Error(`object ${i}: got ${view?.constructor?.name} of ${view?.byteLength} bytes`);
  if (expected.compare(view) !== 0) {
    let at = 0;
    while (at < bytes && view[at] === expected[at]) at++;
    throw new Error(`object ${i} came back different from what was put (first difference at byte ${at})`);
  }
  verifyMs += performance.now() - v;
  view = undefined;
}
await ask({ phase: 'get', getMs, verifyMs });
await ray.free(refs);
await ray.shutdown();
process.exit(0);
