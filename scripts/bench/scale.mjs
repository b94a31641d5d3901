#!/usr/bin/env node
// Cost as work grows (issue 17): a one-node cluster of its own runs a driver (workers/scale_driver.mjs)
// that submits 10,000 no-op tasks at once, then 1,000,000 (or --counts), and reports for each the rate,
// the driver's peak RSS growth per task in flight, and its RSS once the refs are dropped and garbage
// collected, beside its RSS at the start. Prints the machine. Stops the cluster. Nothing is asserted.
//   node scripts/bench/scale.mjs [--counts 10000,1000000] [--num-cpus N]
// Build first (`npx tsc -b`).
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { firstTouchMsPerGiB, optionOf, runCli } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/rayts.js');
const argv = process.argv.slice(2);
const counts = optionOf(argv, '--counts', '10000,1000000').split(',').map(Number);
const numCpus = optionOf(argv, '--num-cpus', String(cpus().length));
if (counts.some((n) => !Number.isInteger(n) || n < 1000)) {
  console.error(`--counts must be integers from 1000 up, comma-separated, got ${optionOf(argv, '--counts')}`);
  process.exit(2);
}

const model = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) ?? [])[1]?.trim() ?? cpus()[0]?.model;
const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
const dir = mkdtempSync(join(tmpdir(), 'rayts-scale-'));
const env = { ...process.env, RAYTS_REGISTRY_DIR: join(dir, 'registry'), RAYTS_TMPDIR: join(dir, 'tmp'), NO_COLOR: '1' };
delete env.RAYTS_ADDRESS;
const started = Date.now();
const results = [];
try {
  await runCli(bin, ['start', '--head', '--port=0', '--dashboard-port=0', '--ray-client-server-port=0', '--node-ip-address=127.0.0.1',
    `--temp-dir=${join(dir, 'cluster')}`, `--num-cpus=${numCpus}`], env);
  const address = JSON.parse(readFileSync(join(dir, 'cluster', 'session_latest', 'head.json'), 'utf8')).address;
  const run = spawnSync(process.execPath, ['--expose-gc', join(root, 'scripts/bench/workers/scale_driver.mjs'), address, ...counts.map(String)],
    { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`the driver failed (exit ${run.status}):\n${run.stderr}`);
  for (const line of run.stdout.split('\n')) if (line.startsWith('{')) results.push(JSON.parse(line));
} finally {
  await runCli(bin, ['stop', `--temp-dir=${join(dir, 'cluster')}`], env).catch((e) => console.error(e.message));
  rmSync(dir, { recursive: true, force: true });
}

const first = results[0];
console.log(`tasks submitted at once (no-op), one driver, a ${numCpus}-CPU node:`);
for (const r of results) {
  console.log(`  ${String(r.n).padStart(9)}: ${r.perSecond.toFixed(0).padStart(6)} tasks/s (${(r.perSecond / first.perSecond).toFixed(2)}× the ${first.n}),` +
    ` submitting took ${(r.submitMs / 1000).toFixed(1)} s; driver RSS ${r.beforeMiB.toFixed(0)} → peak ${r.peakMiB.toFixed(0)} MiB` +
    ` (${(r.peakBytesPerTask / 1024).toFixed(2)} KiB per task in flight) → ${r.afterMiB.toFixed(0)} MiB after the refs were dropped` +
    ` (${(r.afterMiB / r.startMiB).toFixed(2)}× its ${r.startMiB.toFixed(0)} MiB at the start; heap ${r.heapAfterMiB.toFixed(0)} MiB)`);
}
console.log(`machine: ${cpus().length} × ${model}, Node ${process.version}, first touch ${firstTouchMsPerGiB().toFixed(0)} ms/GiB, load average ${loadBefore} before, ` +
  `${loadavg().map((l) => l.toFixed(2)).join(' ')} after; ${((Date.now() - started) / 1000).toFixed(0)} s`);
