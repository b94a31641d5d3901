#!/usr/bin/env node
// What task events cost: `rayts microbenchmark single_client_tasks_async` with task events on and off
// (RAYTS_TASK_EVENTS_ENABLED for the whole cluster: each run starts its own private local cluster,
// which inherits the variable, and the driver reads it too), run alternately (on, off, off, on, …)
// so that drifting load on the machine hits both alike. Prints every run, the medians, their ratio
// and the machine. A benchmark, not a test: nothing is asserted.
//
//   node scripts/bench/task_events_cost.mjs [--pairs N] [--case NAME] [--round-ms MS] [--rounds N]
//
// Build first (`npx tsc -b`).
import { spawn } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/rayts.js');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1] : fallback;
};
const pairs = Number(option('--pairs', '4'));
const benchCase = option('--case', 'single_client_tasks_async');
const roundMs = option('--round-ms', '2000');
const rounds = option('--rounds', '4');
if (!Number.isInteger(pairs) || pairs < 1) {
  console.error(`--pairs must be a positive integer, got ${option('--pairs')}`);
  process.exit(2);
}

/** One `rayts microbenchmark` run on a private cluster of its own; resolves with tasks/s. */
function runOnce(enabled) {
  const dir = mkdtempSync(join(tmpdir(), 'rayts-events-cost-'));
  const env = {
    ...process.env, RAYTS_TASK_EVENTS_ENABLED: enabled ? '1' : '0',
    // A registry and temp dir of its own: the run never picks up another cluster of this host.
    RAYTS_REGISTRY_DIR: join(dir, 'registry'), RAYTS_TMPDIR: join(dir, 'tmp'), NO_COLOR: '1',
  };
  delete env.RAYTS_ADDRESS;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, 'microbenchmark', benchCase, '--json', '--round-ms', roundMs, '--rounds', rounds],
      { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`microbenchmark exited ${code}:\n${err}`));
      try {
        const [result] = JSON.parse(out);
        resolvePromise(result.perSecond);
      } catch (e) {
        reject(new Error(`could not read the microbenchmark's JSON (${e.message}):\n${out}\n${err}`));
      }
    });
  });
}

const runs = { on: [], off: [] };
const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
const started = Date.now();
for (let i = 0; i < pairs; i++) {
  for (const enabled of i % 2 === 0 ? [true, false] : [false, true]) {
    const perSecond = await runOnce(enabled);
    runs[enabled ? 'on' : 'off'].push(perSecond);
    console.log(`run ${runs.on.length + runs.off.length}: events ${enabled ? 'on ' : 'off'} ${benchCase} per second ${perSecond.toFixed(1)}`);
  }
}
const on = median(runs.on);
const off = median(runs.off);
const cpu = cpus();
console.log('');
console.log(`${benchCase}, median of ${pairs} runs each (each run: ${rounds} rounds of ${roundMs} ms after a 1 s warm-up, on a fresh private cluster)`);
console.log(`  task events on : ${on.toFixed(1)} tasks/s   (runs ${runs.on.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`  task events off: ${off.toFixed(1)} tasks/s   (runs ${runs.off.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`  on / off = ${(on / off).toFixed(3)}  (cost ${((1 - on / off) * 100).toFixed(1)} %)`);
console.log(`  machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadBefore} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after; ${Math.round((Date.now() - started) / 1000)} s`);
