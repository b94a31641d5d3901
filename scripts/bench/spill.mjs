#!/usr/bin/env node
// Spilling and restoring beside the disk they use (issue 17): a one-node cluster of its own whose
// object store is a fifth of N × 64 MiB; a driver puts N distinct 64 MiB objects keeping every ref
// (most of them spill), then gets each back (restores) and checks it byte-exact. In the same run, on
// the same directory, the peers: a sequential write of the same bytes with an fsync at the end (what
// `dd bs=64M conv=fsync` does) and a sequential read of that file. Prints the machine, every run,
// medians and the ratios. A benchmark, not a test: nothing is asserted.
//
//   node scripts/bench/spill.mjs [--n 20] [--mib 64] [--runs 3] [--dir DIR] [--cold] [--json FILE]
//
// --dir: a directory on the disk under test (default: a fresh one under os.tmpdir()); the cluster's
//   temp dir and the spill directory (--object-spilling-directory) are made inside it.
// Reads: by default both the restores and the peer read find their file in the page cache (the
//   spill files are read back shortly after they were written, like the peer's file). --cold drops
//   the page cache before the restore phase and before the peer read (`echo 1 > /proc/sys/vm/drop_caches`,
//   root only; it drops every file's cache on the host).
// Spill throughput: bytes the raylet spilled during the put phase ÷ the put phase's wall time (the
//   puts wait for space, so this is what a producer sees); the raylet's own figure (bytes ÷ time inside
//   its writes) is printed beside it. Restore throughput: bytes restored ÷ the time of the gets.
//
// Build first (`npx tsc -b`).
import { fork } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, firstTouchMsPerGiB, makePayload, median, optionOf, runCli } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/rayts.js');
const apiPath = join(root, 'packages/api/dist/index.js');
const argv = process.argv.slice(2);
const n = Number(optionOf(argv, '--n', '20'));
const objMiB = Number(optionOf(argv, '--mib', '64'));
const runs = Number(optionOf(argv, '--runs', '3'));
const cold = argv.includes('--cold');
const jsonOut = optionOf(argv, '--json', undefined);
const objBytes = objMiB * MiB;
const totalBytes = n * objBytes;
const storeBytes = Math.floor(totalBytes / 5 / 4096) * 4096;
const dir = optionOf(argv, '--dir', undefined) ? mkdtempSync(join(resolve(optionOf(argv, '--dir')), 'rayts-bench-spill-')) : mkdtempSync(join(tmpdir(), 'rayts-bench-spill-'));
const env = { ...process.env, RAYTS_REGISTRY_DIR: join(dir, 'registry'), RAYTS_TMPDIR: join(dir, 'tmp'), RAYTS_CLUSTERS_DIR: join(dir, 'clusters'), NO_COLOR: '1' };
delete env.RAYTS_ADDRESS;
const rayts = (args) => runCli(bin, args, env);
const rate = (bytes, ms) => bytes / MiB / (ms / 1000);

function dropCaches() {
  writeFileSync('/proc/sys/vm/drop_caches', '1');
}

/** The filesystem under `path`: device, type and mount point (longest matching mount). */
function diskOf(path) {
  let best = { dev: '?', mnt: '', type: '?' };
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [dev, mnt, type] = line.split(' ');
    if (mnt && (path === mnt || path.startsWith(mnt.endsWith('/') ? mnt : `${mnt}/`)) && mnt.length >= best.mnt.length) best = { dev, mnt, type };
  }
  const s = statfsSync(path);
  return `${best.dev} (${best.type} on ${best.mnt}, ${((Number(s.bavail) * Number(s.bsize)) / 2 ** 30).toFixed(0)} GiB free)`;
}

function hugePages() {
  const thp = (() => { try { return readFileSync('/sys/kernel/mm/transparent_hugepage/shmem_enabled', 'utf8').trim(); } catch { return '?'; } })();
  const total = readFileSync('/proc/meminfo', 'utf8').match(/^HugePages_Total:\s*(\d+)/m)?.[1] ?? '?';
  return `shmem THP ${thp}, HugePages_Total ${total}`;
}

/** The peers: N × objBytes written sequentially to one file in the spill dir, fsync at the end; then read back in 64 MiB reads. */
function diskPeers(spillDir, payload) {
  const path = join(spillDir, 'peer-sequential.bin');
  const fd = openSync(path, 'w');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    for (let at = 0; at < objBytes;) at += writeSync(fd, payload, at, objBytes - at, i * objBytes + at);
  }
  fsyncSync(fd);
  closeSync(fd);
  const writeMs = performance.now() - t0;
  if (cold) dropCaches();
  const into = Buffer.alloc(objBytes);
  const rfd = openSync(path, 'r');
  const t1 = performance.now();
  let read = 0;
  for (;;) {
    const got = readSync(rfd, into, 0, objBytes, read);
    if (got === 0) break;
    read += got;
  }
  const readMs = performance.now() - t1;
  closeSync(rfd);
  rmSync(path);
  if (read !== totalBytes) throw new Error(`the peer read ${read} bytes back, expected ${totalBytes}`);
  return { writeMiBps: rate(totalBytes, writeMs), readMiBps: rate(totalBytes, readMs) };
}

/** The raylet's store counters (`rayts memory --json`). */
async function storeStats(address) {
  const out = JSON.parse(await rayts(['memory', '--stats-only', '--json', '--address', address]));
  const nodes = out.nodes ?? out;
  const s = (Array.isArray(nodes) ? nodes[0] : nodes).store;
  return {
    spilled: Number(s.spilledBytesTotal), restored: Number(s.restoredBytesTotal),
    spillMiBps: Number(s.spillThroughputMibps), restoreMiBps: Number(s.restoreThroughputMibps),
  };
}

async function raytsRun(i) {
  const temp = join(dir, `cluster-${i}`);
  const spillDir = join(temp, 'spill');
  mkdirSync(spillDir, { recursive: true });
  await rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${temp}`, '--num-cpus=1',
    `--object-store-memory=${storeBytes}`, `--object-spilling-directory=${spillDir}`]);
  try {
    const head = JSON.parse(readFileSync(join(temp, 'session_latest', 'head.json'), 'utf8'));
    const driver = fork(join(root, 'scripts/bench/workers/spill-driver.mjs'), [apiPath, head.address, String(n), String(objBytes)], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise((_, reject) => driver.once('exit', (code) => reject(new Error(`the driver exited with ${code}`))));
    const next = () => Promise.race([new Promise((r) => driver.once('message', r)), exited]);
    const res = {};
    try {
      await next(); // ready
      const before = await storeStats(head.address);
      driver.send('go');
      const put = await next();
      const afterPut = await storeStats(head.address);
      // The figures the disk peers are measured against, in the same run and directory.
      Object.assign(res, diskPeers(spillDir, makePayload(objBytes)));
      if (cold) dropCaches();
      driver.send('go');
      const get = await next();
      const afterGet = await storeStats(head.address);
      driver.send('go');
      await exited.catch(() => undefined);
      const spilled = afterPut.spilled - before.spilled;
      const restored = afterGet.restored - afterPut.restored;
      const getMs = get.getMs.reduce((a, b) => a + b, 0);
      Object.assign(res, {
        putMs: put.putMs, spilledBytes: spilled, spillMiBps: rate(spilled, put.putMs), putMiBps: rate(totalBytes, put.putMs), raylet: afterGet,
        restoredBytes: restored, getMs, restoreMiBps: rate(restored, getMs), getMsEach: get.getMs, verifyMs: get.verifyMs,
      });
    } finally {
      if (driver.exitCode === null) driver.kill('SIGKILL');
    }
    return res;
  } finally {
    await rayts(['stop', `--temp-dir=${temp}`]).catch((e) => console.error(e.message));
    rmSync(temp, { recursive: true, force: true });
  }
}

const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
const touch = firstTouchMsPerGiB();
const results = [];
try {
  for (let i = 0; i < runs; i++) {
    const r = await raytsRun(i);
    results.push(r);
    console.log(`run ${i + 1}: puts ${rate(totalBytes, r.putMs).toFixed(0)} MiB/s, spilled ${(r.spilledBytes / MiB).toFixed(0)} MiB at ${r.spillMiBps.toFixed(0)} MiB/s ` +
      `(raylet's writes ${r.raylet.spillMiBps.toFixed(0)} MiB/s), sequential write + fsync ${r.writeMiBps.toFixed(0)} MiB/s; ` +
      `restored ${(r.restoredBytes / MiB).toFixed(0)} MiB at ${r.restoreMiBps.toFixed(0)} MiB/s (raylet ${r.raylet.restoreMiBps.toFixed(0)} MiB/s), sequential read ${r.readMiBps.toFixed(0)} MiB/s; ` +
      `byte-exact (${r.verifyMs.toFixed(0)} ms of checks)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const med = (key) => median(results.map((r) => r[key]));
const cpu = cpus();
const summary = {
  machine: `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; first touch of fresh memory ${touch.toFixed(0)} ms per GiB; ${hugePages()}`,
  disk: diskOf(dirname(dir)), load: `${loadBefore} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after`,
  n, objMiB, storeMiB: storeBytes / MiB, reads: cold ? 'cold (page cache dropped)' : 'warm (page cache)',
  spillMiBps: med('spillMiBps'), writeMiBps: med('writeMiBps'), restoreMiBps: med('restoreMiBps'), readMiBps: med('readMiBps'), runs: results,
};
console.log(`\nmachine: ${summary.machine}`);
console.log(`disk under test: ${summary.disk}; load average ${summary.load}`);
console.log(`${n} × ${objMiB} MiB through a ${summary.storeMiB.toFixed(0)} MiB store, reads ${summary.reads}, median of ${runs}:`);
console.log(`  spill    ${summary.spillMiBps.toFixed(0)} MiB/s   sequential write + fsync ${summary.writeMiBps.toFixed(0)} MiB/s   ${(summary.spillMiBps / summary.writeMiBps).toFixed(2)}×`);
console.log(`  restore  ${summary.restoreMiBps.toFixed(0)} MiB/s   sequential read          ${summary.readMiBps.toFixed(0)} MiB/s   ${(summary.restoreMiBps / summary.readMiBps).toFixed(2)}×`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(summary, null, 2));
