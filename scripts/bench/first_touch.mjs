#!/usr/bin/env node
// First touch of memory on this host, the options the object store has against it, measured on
// 1 GiB (issue 17). Each "mapping" row is what one more process mapping the arena pays to write an
// object into pages that already exist; a second mmap in this process is such a mapping (its own
// page table entries), so no child process is needed.
//   node scripts/bench/first_touch.mjs [--mib=1024] [--thp] [--hugetlb]
// --thp and --hugetlb need root: they set /sys/kernel/mm/transparent_hugepage/shmem_enabled to
// `advise` and vm.nr_hugepages to cover the size for the measurement, and put the old values back.
// Other benches print `firstTouchMsPerGiB()` (lib.mjs) beside their figures.
import { closeSync, ftruncateSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { loadNative } from '@rayts/object-store';
import { GiB, MiB, firstTouchMsPerGiB, optionOf } from './lib.mjs';

const now = () => performance.now();
const PAGE = 4096;

function touchedSource(bytes) {
  const src = new Uint8Array(bytes);
  src.fill(7);
  return src;
}

/** One copy of `src` into `dst`: a put's write of an object of that size. */
function copyMs(dst, src) {
  const t0 = now();
  dst.set(src);
  return now() - t0;
}

/** A tmpfs (or hugetlbfs) file of `bytes` whose pages exist (fallocate), and the cost of creating them. */
function reservedFile(native, bytes, huge) {
  const fd = native.memfd('rayts-first-touch', huge);
  ftruncateSync(fd, bytes);
  const t0 = now();
  native.fallocate(fd, 0, bytes);
  return { fd, fallocateMs: now() - t0 };
}

/** Maps the file once more and copies `src` into it: what one more process pays for its first put. */
async function mappingRow(native, fd, src, how) {
  const t0 = now();
  const ab = native.map(fd, src.length, true, how === 'MAP_POPULATE');
  const mapMs = now() - t0;
  let adviseMs = 0;
  if (how === 'MADV_POPULATE_WRITE') {
    const t1 = now();
    native.advise(ab, 0, src.length, native.advice.MADV_POPULATE_WRITE);
    adviseMs = now() - t1;
  } else if (how === 'populate (thread)') {
    const t1 = now();
    await native.populate(ab, 0, src.length, true);
    adviseMs = now() - t1;
  }
  const first = copyMs(new Uint8Array(ab), src);
  const again = copyMs(new Uint8Array(ab), src);
  return { mapMs: mapMs + adviseMs, firstMs: first, totalMs: mapMs + adviseMs + first, againMs: again };
}

function readSetting(path) {
  return readFileSync(path, 'utf8').trim();
}

async function withSetting(path, value, body) {
  const old = readSetting(path);
  const oldValue = old.match(/\[(\w+)\]/)?.[1] ?? old;
  writeFileSync(path, value);
  try {
    return await body();
  } finally {
    writeFileSync(path, oldValue);
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const bytes = Number(optionOf(argv, '--mib', '1024')) * MiB;
  const native = loadNative();
  const perGiB = (ms) => Math.round(ms * (GiB / bytes));
  const rows = [];
  const row = (what, ms, note = '') => rows.push([what, perGiB(ms), note]);
  const load0 = loadavg().map((l) => l.toFixed(2)).join(' ');

  const src = touchedSource(bytes);
  const dst = touchedSource(bytes);
  copyMs(dst, src);
  const memcpy = copyMs(dst, src);
  row('memcpy into touched memory', memcpy, 'the ceiling');

  const fresh = new Uint8Array(bytes);
  const f1 = copyMs(fresh, src);
  row('fresh anonymous memory: first copy', f1, `again ${perGiB(copyMs(fresh, src))}`);

  // tmpfs with no page yet: the first writer allocates each page.
  {
    const fd = native.memfd('rayts-first-touch', false);
    ftruncateSync(fd, bytes);
    const r = await mappingRow(native, fd, src, 'faults');
    row('tmpfs, no page reserved, plain faults: first copy', r.firstMs, `again ${perGiB(r.againMs)}`);
    closeSync(fd);
  }
  // tmpfs pages reserved by fallocate, each new mapping measured with each way to map them.
  {
    const { fd, fallocateMs } = reservedFile(native, bytes, false);
    row('tmpfs: fallocate (reserve and zero the pages)', fallocateMs, 'once per node');
    for (const how of ['faults', 'MAP_POPULATE', 'MADV_POPULATE_WRITE', 'populate (thread)']) {
      const r = await mappingRow(native, fd, src, how);
      row(`tmpfs reserved, new mapping, ${how}: map + first copy`, r.totalMs, `map ${perGiB(r.mapMs)}, copy ${perGiB(r.firstMs)}, again ${perGiB(r.againMs)}`);
    }
    closeSync(fd);
  }
  if (argv.includes('--thp')) {
    await withSetting('/sys/kernel/mm/transparent_hugepage/shmem_enabled', 'advise', async () => {
      const fd = native.memfd('rayts-first-touch', false);
      ftruncateSync(fd, bytes);
      const ab = native.map(fd, bytes, true, false);
      native.advise(ab, 0, bytes, native.advice.MADV_HUGEPAGE);
      row('tmpfs + MADV_HUGEPAGE (THP): first copy (allocates)', copyMs(new Uint8Array(ab), src));
      const shmemHuge = /ShmemHugePages:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
      for (const how of ['faults', 'MADV_POPULATE_WRITE']) {
        const r = await mappingRow(native, fd, src, how);
        row(`tmpfs THP, new mapping, ${how}: map + first copy`, r.totalMs, `map ${perGiB(r.mapMs)}, copy ${perGiB(r.firstMs)}, again ${perGiB(r.againMs)}; ShmemHugePages ${shmemHuge} kB`);
      }
      closeSync(fd);
    });
  }
  if (argv.includes('--hugetlb')) {
    const need = Math.ceil(bytes / (2 * MiB));
    const old = Number(readSetting('/proc/sys/vm/nr_hugepages'));
    const t0 = now();
    writeFileSync('/proc/sys/vm/nr_hugepages', String(old + need));
    const reserveMs = now() - t0;
    try {
      const got = Number(readSetting('/proc/sys/vm/nr_hugepages')) - old;
      if (got < need) throw new Error(`the kernel gave ${got} of ${need} huge pages`);
      row('hugetlb: sysctl vm.nr_hugepages (reserve)', reserveMs, 'once per host');
      const { fd, fallocateMs } = reservedFile(native, bytes, true);
      row('hugetlb: fallocate (zero the pages)', fallocateMs, 'once per node');
      for (const how of ['faults', 'MAP_POPULATE']) {
        const r = await mappingRow(native, fd, src, how);
        row(`hugetlb, new mapping, ${how}: map + first copy`, r.totalMs, `map ${perGiB(r.mapMs)}, copy ${perGiB(r.firstMs)}, again ${perGiB(r.againMs)}`);
      }
      closeSync(fd);
    } finally {
      writeFileSync('/proc/sys/vm/nr_hugepages', String(old));
    }
  }
  console.log(`first touch on this host (${bytes / MiB} MiB measured, ms per GiB; load average ${load0} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after)`);
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [what, ms, note] of rows) console.log(`${what.padEnd(w)}  ${String(ms).padStart(6)} ms/GiB  ${(ms / perGiB(memcpy)).toFixed(1).padStart(5)}× memcpy  ${note}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
