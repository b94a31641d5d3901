#!/usr/bin/env node
// What task events cost: `rayts microbenchmark single_client_tasks_async` with task events on and off.
// Starts two one-node clusters side by side, one with RAYTS_TASK_EVENTS_ENABLED=1 and one with 0 (the
// daemons and their workers inherit it; each run's driver gets the same setting), and runs the case
// against them alternately (on, off, off, on, …), so that load that comes and goes on the machine
// hits both alike. Prints every run, the medians, their ratio and the machine, then stops both
// clusters. A benchmark, not a test: nothing is asserted.
//
//   node scripts/bench/task_events_cost.mjs [--pairs N] [--case NAME] [--round-ms MS] [--rounds N] [--num-cpus N]
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
if (!Number.isInteger(pairs) || pairs < 1) {
  console.error(`--pairs must be a positive integer, got ${option('--pairs')}`);
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
  await rayts(['start', '--head', '--port=0', `--node-ip-address=${ip}`, `--temp-dir=${join(dir, 'cluster')}`, `--num-cpus=${numCpus}`,
    '--resources={"custom": 100}'], env);
  const address = JSON.parse(readFileSync(join(dir, 'cluster', 'session_latest', 'head.json'), 'utf8')).address;
  return { enabled, dir, env, address };
}

async function stopCluster(c) {
  await rayts(['stop', `--temp-dir=${join(c.dir, 'cluster')}`], c.env).catch((e) => console.error(e.message));
  rmSync(c.dir, { recursive: true, force: true });
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
try {
  for (let i = 0; i < pairs; i++) {
    for (const c of i % 2 === 0 ? [on, off] : [off, on]) {
      const perSecond = await runOnce(c);
      runs[c.enabled ? 'on' : 'off'].push(perSecond);
      console.log(`run ${runs.on.length + runs.off.length}: events ${c.enabled ? 'on ' : 'off'} ${benchCase} per second ${perSecond.toFixed(1)}`);
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
console.log(`${benchCase}, median of ${pairs} runs each (each run: a new driver, ${rounds} rounds of ${roundMs} ms after a 1 s warm-up; two ${numCpus}-CPU clusters side by side)`);
console.log(`  task events on : ${mOn.toFixed(1)} tasks/s   (runs ${runs.on.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`  task events off: ${mOff.toFixed(1)} tasks/s   (runs ${runs.off.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`  on / off = ${(mOn / mOff).toFixed(3)}  (cost ${((1 - mOn / mOff) * 100).toFixed(1)} %)`);
console.log(`  machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadBefore} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after; ${Math.round((Date.now() - started) / 1000)} s`);
