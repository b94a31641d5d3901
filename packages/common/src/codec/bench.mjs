// Micro-benchmark of the value codec (not a test). Build first, then:
//   cd /work/main && npx tsc -b packages/common && node packages/common/src/codec/bench.mjs [MiB]
// Prints small-value round trips per second and the large Float64Array write/read figures.
import { decodeFromBuffer, decodeValue, encodeToBuffer, encodeValue, encodedSize, readEncoded, writeEncoded } from '../../dist/codec/index.js';

const bigMiB = Number(process.argv[2] ?? 512);

class Ref {
  constructor(id) {
    this.id = id;
  }
}
const options = { isRef: (v) => (v instanceof Ref ? v.id : undefined), reviveRef: (id) => new Ref(id) };

/** Calls per second of `fn`: best of `rounds` runs of about `ms` milliseconds each. */
function rate(fn, ms = 250, rounds = 5) {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms / 2) {
    fn();
    n++;
  }
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    best = Math.max(best, n / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  return best;
}

const fmt = (perSec) => `${Math.round(perSec).toLocaleString('en-US').padStart(10)}/s  (${(1e6 / perSec).toFixed(2)} µs)`;

const smalls = [
  ['"ok"', 'ok'],
  ['{a,b,c:[1,2,3]} (JSON path)', { a: 1, b: 'hello', c: [1, 2, 3] }],
  ['{n, d: Date, m: Map} (v8 path)', { n: 1, d: new Date(0), m: new Map([['k', 1]]) }],
  ['{ref, n} (ref substitution)', { ref: new Ref('00ff'), n: 2 }],
  ['Float64Array(16) inline', new Float64Array(16)],
];

console.log(`node ${process.version}, ${process.arch}`);
console.log('\nsmall values                      encodeToBuffer+decodeFromBuffer     encodeValue+decodeValue');
for (const [name, v] of smalls) {
  const a = rate(() => decodeFromBuffer(encodeToBuffer(v, options), options));
  const b = rate(() => decodeValue(encodeValue(v, options), options));
  console.log(`  ${name.padEnd(32)} ${fmt(a)}   ${fmt(b)}`);
}
const okEnc = rate(() => encodeToBuffer('ok'));
const okBuf = encodeToBuffer('ok');
const okDec = rate(() => decodeFromBuffer(okBuf));
console.log(`  "ok" encodeToBuffer alone         ${fmt(okEnc)}\n  "ok" decodeFromBuffer alone       ${fmt(okDec)}`);

// ---- large: one memcpy to write, zero copies to read -------------------------------------------
const n = (bigMiB * 1024 * 1024) / 8;
const big = new Float64Array(n);
for (let i = 0; i < n; i += 512) big[i] = i;
const bytes = n * 8;
const mibps = (ms) => `${((bytes / 1024 / 1024) / (ms / 1000)).toFixed(0)} MiB/s`;
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

readEncoded(encodeToBuffer(new Float64Array(1000))); // warm up the out-of-band path
let t0 = process.hrtime.bigint();
const e = encodeValue(big);
const encMs = ms(t0);
const size = encodedSize(e);
const target = Buffer.allocUnsafeSlow(size);
target.fill(0); // first touch of every page, as the arena is touched once at start
// baseline: a bare memcpy of the same bytes
t0 = process.hrtime.bigint();
target.set(new Uint8Array(big.buffer), 0);
const memcpyMs = ms(t0);

t0 = process.hrtime.bigint();
const written = writeEncoded(e, target);
const writeMs = ms(t0);

t0 = process.hrtime.bigint();
const back = readEncoded(target);
const readMs = ms(t0);

console.log(`\n${bigMiB} MiB Float64Array (${n.toLocaleString('en-US')} elements)`);
console.log(`  encodeValue     ${encMs.toFixed(3)} ms (meta ${e.meta.byteLength} B, ${e.buffers.length} section, section is a view: ${e.buffers[0].buffer === big.buffer})`);
console.log(`  bare memcpy     ${memcpyMs.toFixed(1)} ms  ${mibps(memcpyMs)}`);
console.log(`  writeEncoded    ${writeMs.toFixed(1)} ms  ${mibps(writeMs)}  (${written} bytes)`);
console.log(`  readEncoded     ${readMs.toFixed(3)} ms  ${mibps(readMs)}`);
const sameBuffer = back.buffer === target.buffer;
console.log(`  decoded is Float64Array: ${back instanceof Float64Array}, .buffer === source.buffer: ${sameBuffer}, byteOffset ${back.byteOffset} (% 64 = ${back.byteOffset % 64})`);
let equal = back.length === n;
for (let i = 0; equal && i < n; i += 4096) equal = back[i] === big[i];
target.writeDoubleLE(42.5, back.byteOffset + 8);
console.log(`  values equal: ${equal}; writing source bytes shows in the decoded array: ${back[1] === 42.5}`);

// unaligned fallback: the same block moved 4 bytes off alignment gets that one section copied
const shifted = Buffer.allocUnsafeSlow(size + 4);
shifted.fill(0);
shifted.set(target.subarray(0, written), 4);
t0 = process.hrtime.bigint();
const copied = readEncoded(shifted.subarray(4));
const copyMs = ms(t0);
console.log(`  unaligned readEncoded (one-section copy fallback) ${copyMs.toFixed(1)} ms  ${mibps(copyMs)}, copy: ${copied.buffer !== shifted.buffer}`);
