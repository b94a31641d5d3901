#!/usr/bin/env node
// What task events cost: `rayts microbenchmark single_client_tasks_async` with task events on and off.
// Starts two one-node clusters side by side, one with RAYTS_TASK_EVENTS_ENABLED=1 and one with 0 (the
// daemons and their workers inherit it; each run's driver gets the same setting), and runs the case
// against them alternately (on, off, off, on, …), so that load that comes and goes on the machine
// hits both alike. Prints every run, the medians, the ratio of each pair's two runs (its median and
// spread: on this shared machine single runs swing by ±20 %) and the machine. Then, unless
// --cpu-runs 0, the CPU accounting: a driver (workers/task_events_cpu.mjs) runs --cpu-tasks no-op tasks
// on each cluster alternately and reports the CPU time per task of itself, the head, the raylet and
// the workers (from /proc), which load on the machine changes much less than it changes rates.
// Stops both clusters. A benchmark, not a test: nothing is asserted.
//
//   node scripts/bench/task_events_cost.mjs [--pairs N] [--case NAME] [--round-ms MS] [--rounds N] [--num-cpus N]
//                                          [--cpu-runs N] [--cpu-tasks N]
//
// Build first (`npx tsc -b`).
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, optionOf, runCli } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/rayts.js');
const argv = process.argv.slice(2);
const option = (name, fallback) => optionOf(argv, name, fallback);
const pairs = Number(option('--pairs', '6'));
const benchCase = option('--case', 'single_client_tasks_async');
const roundMs = option('--round-ms', '2000');
const rounds = option('--rounds', '3');
const numCpus = option('--num-cpus', String(cpus().length));
const cpuRuns = Number(option('--cpu-runs', '6'));
const cpuTasks = Number(option('--cpu-tasks', '40000'));
if (!Number.isInteger(pairs) || pairs < 0) {
  console.error(`--pairs must be an integer from 0 up (0: CPU accounting only), got ${option('--pairs')}`);
  process.exit(2);
}
if (!Number.isInteger(cpuRuns) || cpuRuns < 0 || !Number.isInteger(cpuTasks) || cpuTasks < 1000) {
  console.error('--cpu-runs must be an integer from 0 up and --cpu-tasks one from 1000 up');
  process.exit(2);
}

const rayts = (args, env) => runCli(bin, args, env);

/** A one-node cluster of its own (temp dir, registry), task events on or off. */
async function startCluster(enabled, ip) {
  const dir = mkdtempSync(join(tmpdir(), `rayts-events-cost-${enabled ? 'on' : 'off'}-`));
  const env = {
    ...process.env, RAYTS_TASK_EVENTS_ENABLED: enabled ? '1' : '0', RAYTS_REGISTRY_DIR: join(dir, 'registry'), RAYTS_TMPDIR: join(dir, 'tmp'), NO_COLOR: '1',
  };
  delete env.RAYTS_ADDRESS;
  await rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--ray-client-server-port=0', `--node-ip-address=${ip}`, `--temp-dir=${join(dir, 'cluster')}`, `--num-cpus=${numCpus}`,
    '--resources={"custom": 100}'], env);
  const address = JSON.parse(readFileSync(join(dir, 'cluster', 'session_latest', 'head.json'), 'utf8')).address;
  return { enabled, dir, env, address };
}

async function stopCluster(c) {
  await rayts(['stop', `--temp-dir=${join(c.dir, 'cluster')}`], c.env).catch((e) => console.error(e.message));
  rmSync(c.dir, { recursive: true, force: true });
}

/** One run of the CPU driver on cluster `c`: CPU µs per task of each process. */
async function cpuOnce(c) {
  const out = await runCli(join(root, 'scripts/bench/workers/task_events_cpu.mjs'), [c.address, join(c.dir, 'cluster'), String(cpuTasks)], c.env);
  return JSON.parse(out.trim().split('\n').pop());
}

async function runOnce(c) {
  const out = await rayts(['microbenchmark', benchCase, '--address', c.address, '--json', '--round-ms', roundMs, '--rounds', rounds], c.env);
  return JSON.parse(out)[0].perSecond;
}

const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
const started = Date.now();
const on = await startCluster(true, '127.0.0.1');
const off = await startCluster(false, '127.0.0.2').catch(async (e) => { await stopCluster(on); throw e; });
const runs = { on: [], off: [] };
const cpuOf = { on: [], off: [] };
try {
  for (let i = 0; i < pairs; i++) {
    for (const c of i % 2 === 0 ? [on, off] : [off, on]) {
      const perSecond = await runOnce(c);
      runs[c.enabled ? 'on' : 'off'].push(perSecond);
      console.log(`run ${runs.on.length + runs.off.length}: events ${c.enabled ? 'on ' : 'off'} ${benchCase} per second ${perSecond.toFixed(1)}`);
    }
  }
  for (let i = 0; i < cpuRuns; i++) {
    for (const c of i % 2 === 0 ? [on, off] : [off, on]) {
      const r = await cpuOnce(c);
      cpuOf[c.enabled ? 'on' : 'off'].push(r);
      console.log(`cpu run ${cpuOf.on.length + cpuOf.off.length}: events ${c.enabled ? 'on ' : 'off'} ${r.perSecond.toFixed(0)} tasks/s; CPU µs per task: driver ${r.driver.toFixed(1)}, head ${r.head.toFixed(1)}, raylet ${r.raylet.toFixed(1)}, workers ${r.workers.toFixed(1)}`);
    }
  }
} finally {
  await stopCluster(on);
  await stopCluster(off);
}
const mOn = median(runs.on);
const mOff = median(runs.off);
const cpu = cpus();
console.log('');
if (pairs > 0) {
  console.log(`${benchCase}, median of ${pairs} runs each (each run: a new driver, ${rounds} rounds of ${roundMs} ms after a 1 s warm-up; two ${numCpus}-CPU clusters side by side)`);
  console.log(`  task events on : ${mOn.toFixed(1)} tasks/s   (runs ${runs.on.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  task events off: ${mOff.toFixed(1)} tasks/s   (runs ${runs.off.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  on / off of the medians = ${(mOn / mOff).toFixed(3)}  (cost ${((1 - mOn / mOff) * 100).toFixed(1)} %)`);
  // Each pair ran back to back (on then off, or off then on): its ratio is what load that comes and goes disturbs least.
  const ratios = runs.on.map((x, i) => x / runs.off[i]).sort((a, b) => a - b);
  const q = (p) => ratios[Math.min(ratios.length - 1, Math.max(0, Math.round(p * (ratios.length - 1))))];
  console.log(`  on / off per pair: median ${median(ratios).toFixed(3)} (cost ${((1 - median(ratios)) * 100).toFixed(1)} %), quartiles ${q(0.25).toFixed(3)}..${q(0.75).toFixed(3)}, range ${ratios[0].toFixed(3)}..${ratios[ratios.length - 1].toFixed(3)}`);
}
if (cpuRuns > 0) {
  const parts = ['driver', 'head', 'raylet', 'workers'];
  const total = (r) => parts.reduce((n, k) => n + r[k], 0);
  console.log(`CPU µs per task, median of ${cpuRuns} runs of ${cpuTasks} tasks each (on / off / events cost):`);
  for (const k of [...parts, 'total']) {
    const get = (r) => (k === 'total' ? total(r) : r[k]);
    const a = median(cpuOf.on.map(get));
    const b = median(cpuOf.off.map(get));
    console.log(`  ${k.padEnd(8)} ${a.toFixed(1).padStart(6)} ${b.toFixed(1).padStart(6)} ${(a - b >= 0 ? '+' : '') + (a - b).toFixed(1)}`);
  }
  const totalRatio = median(cpuOf.off.map(total)) / median(cpuOf.on.map(total));
  console.log(`  off ÷ on of the totals = ${totalRatio.toFixed(3)} (the rate ratio to expect when the CPUs are the limit); rates of these runs: on ${median(cpuOf.on.map((r) => r.perSecond)).toFixed(0)}, off ${median(cpuOf.off.map((r) => r.perSecond)).toFixed(0)} tasks/s`);
}
console.log(`  machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadBefore} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after; ${Math.round((Date.now() - started) / 1000)} s`);
