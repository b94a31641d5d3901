// The remote-client benchmark's driver: connects through RAYTS_ADDRESS (rayts://…) and times `put`
// and `get` of one large Uint8Array, `--runs` times each; prints one JSON line.
import * as ray from 'rayts';

const bytes = Number(process.argv[2]);
const runs = Number(process.argv[3]);
const payload = new Uint8Array(bytes);
for (let at = 0; at < bytes; at += 4096) payload[at] = at & 0xff; // touched before timing
await ray.init();
const put = [];
const get = [];
let ref;
for (let i = 0; i < runs; i++) {
  if (ref) await ray.free([ref]); // one object in the store at a time: no spilling in the figures
  const t0 = performance.now();
  ref = await ray.put(payload);
  put.push(performance.now() - t0);
}
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const back = await ray.get(ref);
  get.push(performance.now() - t0);
  if (back.length !== bytes) throw new Error(`get returned ${back.length} bytes, expected ${bytes}`);
}
console.log(JSON.stringify({ put, get }));
await ray.shutdown();
