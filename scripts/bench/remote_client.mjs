#!/usr/bin/env node
// Remote drivers (`rayts://`) beside their limits, in one run on a one-node cluster of its own:
// - `put` and `get` of `--mib` MiB through the client, beside a raw TCP socket on loopback moving the
//   same bytes into a fresh buffer (what a client's get has to do at least);
// - `rayts microbenchmark single_client_tasks_sync|async` through rayts:// beside the same cases from a
//   driver on the node.
// Prints the machine, every run, medians and ratios. A benchmark, not a test: nothing is asserted.
//
//   node scripts/bench/remote_client.mjs [--mib 1024] [--runs 3]
//
// Build first (`npx tsc -b`).
import { spawn } from 'node:child_process';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, firstTouchMsPerGiB, makePayload, median, optionOf, rawSocketMs, runCli } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/rayts.js');
const argv = process.argv.slice(2);
const mib = Number(optionOf(argv, '--mib', '1024'));
const runs = Number(optionOf(argv, '--runs', '3'));
const bytes = mib * MiB;
const rayts = (args, env) => runCli(bin, args, env);
const mibPerSec = (ms) => mib / (ms / 1000);

async function clientTransfers(env, project) {
  const out = await new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(project, 'driver.mjs'), String(bytes), String(runs)], { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    child.on('exit', (code) => (code === 0 ? resolveRun(text) : reject(new Error(`the client driver exited with ${code}`))));
  });
  return JSON.parse(out.trim().split('\n').pop());
}

async function taskRate(name, address, env) {
  const out = await rayts(['microbenchmark', name, '--address', address, '--json'], env);
  return JSON.parse(out).find((c) => c.name === name).perSecond;
}

const dir = mkdtempSync(join(tmpdir(), 'rayts-bench-client-'));
const env = { ...process.env, RAYTS_REGISTRY_DIR: join(dir, 'registry'), RAYTS_TMPDIR: join(dir, 'tmp'), RAYTS_CLUSTERS_DIR: join(dir, 'clusters'), NO_COLOR: '1' };
delete env.RAYTS_ADDRESS;
const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
const touch = firstTouchMsPerGiB().toFixed(0);
await rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--ray-client-server-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${join(dir, 'cluster')}`,
  `--num-cpus=${cpus().length}`, `--object-store-memory=${Math.max(2 * bytes + 256 * MiB, 1024 * MiB)}`, '--resources={"custom": 100}'], env);
try {
  const head = JSON.parse(readFileSync(join(dir, 'cluster', 'session_latest', 'head.json'), 'utf8'));
  const remote = `rayts://127.0.0.1:${head.clientPort}`;
  // The client sees no node: its own empty temp dir, registry and record of clusters.
  const nowhere = join(dir, 'client-host');
  const clientEnv = { ...env, RAYTS_ADDRESS: remote, RAYTS_TOKEN_FILE: join(dir, 'cluster', 'state', 'token'),
    RAYTS_TMPDIR: join(nowhere, 'tmp'), RAYTS_REGISTRY_DIR: join(nowhere, 'registry'), RAYTS_CLUSTERS_DIR: join(nowhere, 'clusters') };
  const project = join(dir, 'project');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  symlinkSync(root, join(project, 'node_modules', 'rayts'));
  writeFileSync(join(project, 'package.json'), '{"type":"module"}');
  writeFileSync(join(project, 'driver.mjs'), readFileSync(join(root, 'scripts/bench/workers/remote-client-driver.mjs')));

  const raw = await rawSocketMs(makePayload(bytes), runs);
  const client = await clientTransfers(clientEnv, project);
  const rates = {};
  for (const name of ['single_client_tasks_sync', 'single_client_tasks_async']) {
    rates[name] = { node: await taskRate(name, head.address, env), client: await taskRate(name, remote, clientEnv) };
  }
  const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
  const cpu = cpus();
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load average ${loadBefore} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after; first touch of fresh memory here: ${touch} ms per GiB`);
  console.log(`\n${mib} MiB over loopback, median of ${runs}:`);
  console.log(`  raw TCP socket into a fresh buffer  ${mibPerSec(median(raw)).toFixed(0)} MiB/s   (runs ${fmt(raw)} ms)`);
  console.log(`  rayts:// put                        ${mibPerSec(median(client.put)).toFixed(0)} MiB/s   (runs ${fmt(client.put)} ms)  ${(median(raw) / median(client.put)).toFixed(2)}× the raw socket`);
  console.log(`  rayts:// get                        ${mibPerSec(median(client.get)).toFixed(0)} MiB/s   (runs ${fmt(client.get)} ms)  ${(median(raw) / median(client.get)).toFixed(2)}× the raw socket`);
  console.log('\ntasks per second (rayts microbenchmark):');
  for (const [name, r] of Object.entries(rates)) {
    console.log(`  ${name.padEnd(26)} on the node ${r.node.toFixed(0)}   through rayts:// ${r.client.toFixed(0)}   ${(r.client / r.node).toFixed(2)}×`);
  }
} finally {
  await rayts(['stop', `--temp-dir=${join(dir, 'cluster')}`], env).catch((e) => console.error(e.message));
  rmSync(dir, { recursive: true, force: true });
}
