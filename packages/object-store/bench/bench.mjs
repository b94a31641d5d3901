#!/usr/bin/env node
// One-off object store benchmark (not a test; nothing asserts a time). Needs a build:
//   npm run build:native && npx tsc -b packages/object-store && node packages/object-store/bench/bench.mjs
// Prints MiB/s for writing one 512 MiB object into a prefaulted arena vs. into a fresh Buffer (same
// source, same run), and spill write / restore throughput of the object store.
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arena } from '../dist/arena.js';
import { ObjectStore } from '../dist/object_store.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_MIB ?? 512) * MiB;
const REPS = 3;

function time(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}
const mibps = (bytes, s) => bytes / MiB / s;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const src = Buffer.allocUnsafe(SIZE);
for (let o = 0; o < SIZE; o += 64 * 1024) randomFillSync(src, o, Math.min(64 * 1024, SIZE - o));

const rows = [];
function bench(name, setup) {
  const runs = [];
  for (let r = 0; r < REPS; r++) {
    const dst = setup();
    runs.push(time(() => dst.set(src)));
    dst.fill(0, 0, 1); // keep it alive until here
  }
  const s = median(runs);
  rows.push([name, mibps(SIZE, s)]);
  return mibps(SIZE, s);
}

// a) memcpy into a fresh Buffer: every page is a first-touch fault
const fresh = bench('fresh Buffer (first touch)', () => Buffer.allocUnsafeSlow(SIZE));
// b) memcpy into a Buffer whose pages were touched before: the memcpy ceiling
const warm = Buffer.allocUnsafeSlow(SIZE);
warm.fill(1);
bench('touched Buffer (pure memcpy)', () => warm);
// c) into a prefaulted arena (fallocate + MAP_POPULATE + one write per page at create)
const arenas = [];
let prefaultSeconds = 0;
const pre = bench('prefaulted arena (/dev/shm)', () => {
  let a;
  prefaultSeconds += time(() => (a = Arena.create({ size: SIZE, prefault: true })));
  arenas.push(a);
  return a.view(0, SIZE);
});
// d) into a fresh arena without prefault: tmpfs page allocation + fault per page
const cold = bench('arena without prefault', () => {
  const a = Arena.create({ size: SIZE, prefault: false });
  arenas.push(a);
  return a.view(0, SIZE);
});
for (const a of arenas) a.close();

console.log(`object: ${SIZE / MiB} MiB, median of ${REPS}`);
for (const [n, v] of rows) console.log(`  ${n.padEnd(32)} ${v.toFixed(0).padStart(7)} MiB/s`);
console.log(`  prefaulted arena / fresh Buffer   ${(pre / fresh).toFixed(1)}x`);
console.log(`  prefaulted arena / cold arena     ${(pre / cold).toFixed(1)}x`);
console.log(`  prefault cost at create           ${((prefaultSeconds / REPS) * 1000).toFixed(0)} ms per ${SIZE / MiB} MiB`);

// Spill and restore: 16 objects of SIZE/8 pushed through a store of SIZE/2 (so 3/4 spill).
const dir = mkdtempSync(join(tmpdir(), 'rayts-os-bench-'));
try {
  const store = new ObjectStore({ size: SIZE / 2, prefault: true, spillDir: dir });
  const objSize = SIZE / 8;
  const ids = [];
  for (let i = 0; i < 16; i++) {
    const id = i.toString(16).padStart(56, '0');
    const { view } = await store.create(id, objSize);
    view.set(src.subarray(0, objSize));
    store.seal(id);
    ids.push(id);
  }
  await store.drain();
  for (const id of ids) {
    const g = await store.get(id);
    if (g.view[objSize - 1] !== src[objSize - 1]) throw new Error('restore mismatch');
    store.release(id);
  }
  const s = store.stats();
  console.log(
    `spill (dir ${dir}, ${objSize / MiB} MiB objects, store ${SIZE / 2 / MiB} MiB): ` +
      `wrote ${s.spilledBytesTotal / MiB} MiB at ${s.spillThroughputMiBps.toFixed(0)} MiB/s, ` +
      `restored ${s.restoredBytesTotal / MiB} MiB at ${s.restoreThroughputMiBps.toFixed(0)} MiB/s ` +
      '(page cache, no fsync)',
  );
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
