#!/usr/bin/env node
// rayts side by side with its peers, in one run on this machine (a benchmark, not a test: nothing
// here asserts a time). Usage:
//
//   node scripts/bench/run.mjs            full run, writes docs/performance.md
//   node scripts/bench/run.mjs --quick    smoke run: short durations, small payloads, no doc
//                                         (unless --out FILE is given)
//   --only rayts,piscina,…                run some sections (limits, rayts, rayts-big, rayts-micro, inter-node,
//                                         spill, piscina, workerpool-threads, workerpool-processes, bullmq)
//   --out FILE | --no-doc                 where the Markdown goes / do not write it
//
// Needs a build first (`npm run build` or `npx tsc -b`) and, for BullMQ, Debian's redis-server.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, release, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import {
  section, installExitHandlers, tryGc, fmtNum, fmtMs, fmtRatio, textTable, mdTable, MiB, GiB, median, firstTouchMsPerGiB,
} from './lib.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '../..');
const apiPath = join(root, 'packages/api/dist/index.js');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };

if (flag('--help') || flag('-h')) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 12).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

const quick = flag('--quick');
const SECTIONS = ['limits', 'rayts', 'rayts-big', 'rayts-micro', 'inter-node', 'spill', 'piscina', 'workerpool-threads', 'workerpool-processes', 'bullmq'];
const only = option('--only')?.split(',').map((s) => s.trim()).filter(Boolean);
if (only) for (const s of only) if (!SECTIONS.includes(s)) { console.error(`unknown section ${s}; known: ${SECTIONS.join(', ')}`); process.exit(2); }
const wanted = (s) => !only || only.includes(s);
const docPath = flag('--no-doc') ? undefined : option('--out') ? resolve(option('--out')) : quick ? undefined : join(root, 'docs/performance.md');

const cfg = quick
  ? { syncSeconds: 0.5, asyncTasks: 1000, payloadBytes: 16 * MiB, copyReps: 2, slowCopyReps: 1, processPayloadBytes: 4 * MiB,
      bullmqAsyncTasks: 1000, bullmqPayloadBytes: 16 * MiB, bullmqConcurrency: 64, bigBytes: 256 * MiB, bigStoreBytes: GiB, interNodeMiB: 256, interNodeRuns: 2, spillObjects: 10, spillRuns: 1 }
  : { syncSeconds: 3, asyncTasks: 10_000, payloadBytes: 100 * MiB, copyReps: 3, slowCopyReps: 1, processPayloadBytes: 100 * MiB,
      bullmqAsyncTasks: 10_000, bullmqPayloadBytes: 100 * MiB, bullmqConcurrency: 64, bigBytes: GiB, bigStoreBytes: 3 * GiB, interNodeMiB: 1024, interNodeRuns: 5, spillObjects: 20, spillRuns: 3 };
cfg.apiPath = apiPath;

if (wanted('rayts') || wanted('rayts-big')) {
  if (!existsSync(apiPath)) {
    console.error(`${relative(process.cwd(), apiPath)} does not exist: build rayts first (\`npm run build\` or \`npx tsc -b\` at the repository root).`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------------------------------------
// Isolation: a private temp dir (rayts sessions, Redis dir), no cluster of someone else's, and a
// marker in the environment of every process this run starts, to find leftovers at the end.
// ---------------------------------------------------------------------------------------------
const runId = randomUUID();
const privateDir = mkdtempSync(join(tmpdir(), 'rb-'));
process.env.RAYTS_TMPDIR = join(privateDir, 's');
process.env.RAYTS_REGISTRY_DIR = join(privateDir, 'r');
process.env.TMPDIR = privateDir;
process.env.RAYTS_BENCH_RUN = runId;
delete process.env.RAYTS_ADDRESS;
const shmBefore = new Set(safeList('/dev/shm'));
installExitHandlers(() => rmSync(privateDir, { recursive: true, force: true }));

function safeList(dir) { try { return readdirSync(dir); } catch { return []; } }

/** Processes (other than this one) that carry this run's marker in their environment. */
function leftoverProcesses() {
  const out = [];
  const marker = `RAYTS_BENCH_RUN=${runId}`;
  for (const pid of safeList('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // a zombie holds nothing
      out.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim()}`);
    } catch { /* gone, or not readable */ }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------
const version = (p) => { try { return JSON.parse(readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8')).version; } catch { return undefined; } };
/** Share of CPU time that was busy (or stolen) over `ms` while this process idles: other work on the host. */
async function busyShare(ms) {
  const read = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const d = read().map((x, i) => x - a[i]);
  const total = d.reduce((x, y) => x + y, 0) || 1;
  return { busy: 1 - (d[3] + d[4] + d[7]) / total, steal: d[7] / total };
}
/** CPU ticks: the whole machine (busy, steal, total) and this process with its reaped children. */
function cpuTicks() {
  const m = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const self = readFileSync('/proc/self/stat', 'utf8');
  const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number); // f[11..14] = utime stime cutime cstime
  const total = m.reduce((x, y) => x + y, 0);
  return { total, busy: total - m[3] - m[4], steal: m[7], ours: f[11] + f[12] + f[13] + f[14] };
}
const fmtBusy = (b) => `${(b.busy * 100).toFixed(0)} % busy (steal ${(b.steal * 100).toFixed(0)} %)`;

const machine = {
  nproc: cpus().length,
  model: (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) ?? [])[1]?.trim() ?? cpus()[0]?.model,
  memGiB: totalmem() / GiB,
  freeGiB: freemem() / GiB,
  kernel: release(),
  node: process.version,
  loadBefore: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  date: new Date().toISOString(),
  /** What a first touch of fresh memory costs here (ms per GiB) and the reserved huge pages: figures of big objects depend on both. */
  firstTouchMsPerGiB: firstTouchMsPerGiB(),
  hugePages: hugePagesNow(),
};
/** HugePages_Total and _Free of /proc/meminfo (2 MiB pages on x86-64). */
function hugePagesNow() {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const field = (name) => Number((info.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm')) ?? [])[1] ?? 0);
  return { total: field('HugePages_Total'), free: field('HugePages_Free') };
}
function memoryLine() {
  const h = machine.hugePages;
  return `first touch of fresh memory ${fmtNum(machine.firstTouchMsPerGiB)} ms per GiB (a 1 GiB memcpy into touched memory: see Limits); huge pages reserved ${fmtNum(h.total)}, free ${fmtNum(h.free)} at the start`;
}
const versions = {
  rayts: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
  piscina: version('piscina'), workerpool: version('workerpool'), bullmq: version('bullmq'), ioredis: version('ioredis'),
  '@grpc/grpc-js': version('@grpc/grpc-js'),
};

machine.busyBefore = await busyShare(2000);
console.log(`rayts benchmarks${quick ? ' (--quick: smoke run, short durations, small payloads)' : ''}`);
console.log(`${machine.nproc} × ${machine.model}, Node ${machine.node}, load ${machine.loadBefore}, CPUs ${fmtBusy(machine.busyBefore)} with this run idle; ${memoryLine()}\n`);

const R = {};
const started = performance.now();
const ticks0 = cpuTicks();
async function run(sectionKey, key, label, fn, timeoutS) {
  if (!wanted(sectionKey)) return;
  process.stdout.write(`· ${label} … `);
  const t0 = performance.now();
  R[key] = await section(label, (scope) => fn(cfg, scope), (quick ? Math.min(timeoutS, 180) : timeoutS) * 1000);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(R[key].error ? `FAILED after ${s} s: ${R[key].error}` : `${s} s`);
  await settleHugePages();
}

/**
 * After a section: the next starts once the reserved huge pages are back (at most 10 s). A stopped
 * cluster's store stays mapped in this process until the collector takes its buffers (measured:
 * seconds after its daemons had gone), and a cluster started meanwhile would get 4 KiB pages.
 */
async function settleHugePages() {
  const deadline = performance.now() + 10_000;
  for (;;) {
    tryGc();
    if (hugePagesNow().free >= machine.hugePages.free || performance.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The peers are not dependencies of rayts (they would slow every `npm ci`); install them for a run.
const PEERS = ['piscina@^5.3.2', 'workerpool@^10.0.3', 'bullmq@^6.7.0', 'ioredis@^6'];
{
  const { createRequire } = await import('node:module');
  const req = createRequire(join(root, 'package.json'));
  const missing = PEERS.filter((p) => { try { req.resolve(p.slice(0, p.lastIndexOf('@'))); return false; } catch { return true; } });
  if (missing.length > 0) {
    console.error(`the peer benchmarks need packages that are not installed: ${missing.join(' ')}\n` +
      `install them for this run (not saved to package.json): npm install --no-save ${PEERS.join(' ')}`);
    process.exit(1);
  }
}
const limits = await import('./peers/limits.mjs');

/** scripts/bench/inter_node.mjs (its own two-node cluster): MiB/s of each run and of the bare gRPC stream. */
async function benchInterNode(c) {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(process.execPath, [join(root, 'scripts/bench/inter_node.mjs'), String(c.interNodeMiB), String(c.interNodeRuns)], { encoding: 'utf8', timeout: 400_000 });
  const rates = (line) => [...(out.split('\n').find((l) => l.startsWith(line)) ?? '').split(':')[1]?.matchAll(/(\d+) MiB\/s/g) ?? []].map((m) => Number(m[1]));
  const runs = rates('inter-node transfer');
  if (runs.length === 0) throw new Error(`inter_node.mjs printed no figures:\n${out}`);
  const rawRuns = rates('raw TCP loopback stream');
  return { runs, mibPerSec: median(runs), grpcRuns: rates('bare gRPC stream'), grpcMibPerSec: median(rates('bare gRPC stream')), rawRuns, rawMibPerSec: median(rawRuns) };
}
/** `rayts microbenchmark --json FILTER` (Ray's cases, on a private local cluster of its own): perSecond by case name. */
async function benchMicro(filter) {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(process.execPath, [join(root, 'bin/rayts.js'), 'microbenchmark', '--json', filter], { encoding: 'utf8', timeout: 280_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const json = out.slice(out.indexOf('\n[') + 1 || out.indexOf('['));
  return Object.fromEntries(JSON.parse(json).map((r) => [r.name, r.perSecond]));
}
/** scripts/bench/spill.mjs (its own one-node cluster): spill and restore beside a sequential write + fsync and read of the same bytes. */
async function benchSpill(c) {
  const { execFileSync } = await import('node:child_process');
  const out = join(process.env.TMPDIR, 'spill.json');
  execFileSync(process.execPath, [join(root, 'scripts/bench/spill.mjs'), '--n', String(c.spillObjects), '--runs', String(c.spillRuns), '--json', out], { encoding: 'utf8', timeout: 580_000 });
  return JSON.parse(readFileSync(out, 'utf8'));
}
const raytsPeer = await import('./peers/rayts.mjs');
const piscinaPeer = await import('./peers/piscina.mjs');
const workerpoolPeer = await import('./peers/workerpool.mjs');
const bullmqPeer = await import('./peers/bullmq.mjs');

await run('limits', 'memcpy', 'limits: memcpy', limits.benchMemcpy, 120);
await run('limits', 'ipc', 'limits: fork IPC', limits.benchIpc, 120);
await run('limits', 'grpc', 'limits: grpc-js unary', limits.benchGrpc, 120);
await run('rayts', 'rayts', 'rayts', raytsPeer.benchRayts, 900);
await run('rayts-big', 'rayts-big', `rayts: get of a ${cfg.bigBytes / MiB} MiB put`, raytsPeer.benchRaytsBigGet, 300);
await run('rayts-micro', 'micro-actors', 'rayts microbenchmark 1_1_actor_calls', () => benchMicro('1_1_actor_calls'), 300);
await run('rayts-micro', 'micro-put', 'rayts microbenchmark put_gigabytes', () => benchMicro('put_gigabytes'), 300);
await run('inter-node', 'inter-node', `rayts: ${cfg.interNodeMiB} MiB between two nodes`, benchInterNode, 420);
await run('spill', 'spill', `rayts: ${cfg.spillObjects} × 64 MiB through a store a fifth of their size`, benchSpill, 600);
await run('piscina', 'piscina', 'piscina, 2 threads', piscinaPeer.benchPiscina, 300);
await run('workerpool-threads', 'workerpool-threads', 'workerpool, 2 threads', workerpoolPeer.benchWorkerpoolThreads, 300);
await run('workerpool-processes', 'workerpool-processes', 'workerpool, 2 processes', workerpoolPeer.benchWorkerpoolProcesses, 900);
await run('bullmq', 'bullmq', 'BullMQ + Redis', bullmqPeer.benchBullmq, 600);
const totalS = (performance.now() - started) / 1000;
{
  const t = cpuTicks();
  const total = t.total - ticks0.total || 1;
  // Ours counts child processes once they are reaped; a daemon re-parented elsewhere would be counted as other work.
  machine.others = { busy: Math.max(0, (t.busy - ticks0.busy - (t.steal - ticks0.steal) - (t.ours - ticks0.ours)) / total), steal: (t.steal - ticks0.steal) / total };
}
machine.loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
machine.busyAfter = await busyShare(2000);

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------
const v = (key) => R[key]?.value;
const err = (key) => R[key]?.error;
const sizeLabel = (b) => (b >= GiB ? `${b / GiB} GiB` : `${b / MiB} MiB`);
const syncCell = (s) => (s ? `${fmtNum(s.perSec)} (${fmtNum(s.usPerCall)} µs)` : '—');
const asyncCell = (a) => (a ? `${fmtNum(a.perSec)}${a.n !== cfg.asyncTasks ? ` (${fmtNum(a.n)} jobs)` : ''}` : '—');
const copyCell = (c) => (c ? `${fmtMs(c.ms)} = ${fmtNum(c.mibPerSec)} MiB/s${c.bytes !== cfg.payloadBytes ? ` (${sizeLabel(c.bytes)})` : ''}` : '—');
const failed = (key) => (err(key) ? `failed: ${err(key)}` : 'not run');

const peers = [
  { key: 'rayts', name: `rayts ${versions.rayts}`, config: '`ray.init({ numCpus: 2 })`, private local cluster' },
  { key: 'piscina', name: `piscina ${versions.piscina}`, config: '2 threads' },
  { key: 'workerpool-threads', name: `workerpool ${versions.workerpool}`, config: '2 threads' },
  { key: 'workerpool-processes', name: `workerpool ${versions.workerpool}`, config: '2 child processes' },
  { key: 'bullmq', name: `BullMQ ${versions.bullmq}`, config: `Redis ${v('bullmq')?.redisVersion ?? bullmqPeer.redisVersion() ?? '?'}, worker in a child process, concurrency ${cfg.bullmqConcurrency}` },
];

function fastPathCell(key) {
  const r = v(key);
  if (!r) return '';
  if (key === 'rayts' && r.zeroCopy) {
    const z = r.zeroCopy;
    return `put ${fmtMs(z.putMs)}, task reading it ${fmtMs(z.taskMs)}, driver get ${fmtMs(z.getMs)}`;
  }
  if (r.transfer) return `transfer: RTT ${fmtMs(r.transfer.ms)} (runs ${r.transfer.runs.map((x) => x.toFixed(1)).join(' / ')} ms)`;
  if (key === 'workerpool-processes') return r.copyError ? `copy failed: ${r.copyError}` : `JSON over IPC; comes back as a ${r.copy?.shape ?? '?'}; helper peak RSS ${fmtNum(r.copy?.peakRssMiB)} MiB`;
  if (key === 'bullmq') return `base64 in JSON both ways; Redis peak memory ${r.redisPeakMemory ?? '?'}`;
  return '';
}

const mainHeader = ['Peer', 'Config', '(a) sync tasks/s (per task)', `(b) async ${fmtNum(cfg.asyncTasks)} tasks/s`, `(c) ${sizeLabel(cfg.payloadBytes)} round trip (copy)`, '(c) fast path'];
const mainRows = peers.map((p) => {
  const r = v(p.key);
  if (!r) return [p.name, p.config, failed(p.key), '', '', ''];
  return [p.name, p.config, syncCell(r.sync), asyncCell(r.async), copyCell(r.copy), fastPathCell(p.key)];
});

const limitRows = [];
{
  const g = v('grpc'), i = v('ipc'), m = v('memcpy');
  limitRows.push(['grpc-js unary RTT, empty bytes, server in a forked child', g ? `${syncCell(g.sync)} calls/s` : failed('grpc')]);
  limitRows.push(['grpc-js unary, 64 in flight', g ? `${fmtNum(g.inflight64.perSec)} calls/s` : failed('grpc')]);
  limitRows.push(['child_process.fork IPC round trip (JSON)', i ? `${syncCell(i.sync)} msgs/s` : failed('ipc')]);
  limitRows.push(['child_process.fork IPC, 64 in flight', i ? `${fmtNum(i.inflight64.perSec)} msgs/s` : failed('ipc')]);
  limitRows.push([`memcpy: Buffer.copy of ${sizeLabel(cfg.bigBytes)} into a touched Buffer`, m ? `${fmtMs(m.ms)} = ${m.gibPerSec.toFixed(1)} GiB/s` : failed('memcpy')]);
  const b = v('rayts-big');
  limitRows.push([`rayts: ray.get of a ${sizeLabel(cfg.bigBytes)} Float64Array put on this node`, b ? `first get ${fmtMs(b.firstGetMs)}, repeated gets ${fmtMs(b.getMs)} (median of 4); the put took ${fmtMs(b.putMs)}` : failed('rayts-big')]);
}

// Ratios: rayts over each peer (higher is better for rayts).
const ry = v('rayts');
const ratioRows = peers.slice(1).map((p) => {
  const r = v(p.key);
  const q = (a, b) => (a && b ? fmtRatio(a / b) : '—');
  return [`rayts / ${p.name} (${p.config.replace(/,.*/, '')})`, q(ry?.sync?.perSec, r?.sync?.perSec), q(ry?.async?.perSec, r?.async?.perSec),
    q(ry?.copy?.mibPerSec, r?.copy?.mibPerSec), r?.transfer && ry?.zeroCopy ? q(r.transfer.ms, ry.zeroCopy.putMs + ry.zeroCopy.taskMs + ry.zeroCopy.getMs) : ''];
});
const ratioHeader = ['Ratio', '(a) sync', '(b) async', '(c) copy MiB/s', '(c) fast path: peer transfer RTT ÷ rayts put + task + get'];

// Acceptance targets.
const targets = [];
{
  const pis = v('piscina'), m = v('memcpy'), b = v('rayts-big');
  const row = (name, measured, headroom, note = '') => targets.push([name, measured, headroom === undefined ? '—' : fmtRatio(headroom),
    headroom === undefined ? 'not measured' : headroom >= 1 ? '**met**' : '**not met**', note]);
  // Issue 17's acceptance, as ratios to peers and limits measured in this run.
  const micro = { ...v('micro-actors'), ...v('micro-put') };
  const vsPiscina = (what, rate, kind, want) => {
    const peer = pis?.[kind]?.perSec;
    row(`${what} ≥ ${want.toFixed(1)}× piscina's ${kind}`, rate && peer ? `${fmtNum(rate)} vs ${fmtNum(peer)} /s = ${fmtRatio(rate / peer)}` : '—', rate && peer ? rate / peer / want : undefined);
  };
  vsPiscina('tasks sync', ry?.sync?.perSec, 'sync', 0.5);
  vsPiscina('tasks async', ry?.async?.perSec, 'async', 1);
  vsPiscina('1_1_actor_calls_sync', micro['1_1_actor_calls_sync'], 'sync', 0.5);
  vsPiscina('1_1_actor_calls_async', micro['1_1_actor_calls_async'], 'async', 1);
  const single = micro.single_client_put_gigabytes, multi = micro.multi_client_put_gigabytes;
  row('multi_client_put_gigabytes ≥ 0.5× single_client_put_gigabytes', single && multi ? `${multi.toFixed(2)} vs ${single.toFixed(2)} GiB/s = ${fmtRatio(multi / single)}` : failed('micro-put'), single && multi ? multi / single / 0.5 : undefined,
    'rayts microbenchmark, Ray\'s cases (a fresh 80 MiB array per put in each of 10 tasks, against one array put again)');
  const pages = `huge pages reserved: ${fmtNum(machine.hugePages.total)}`;
  const fp = b && m ? b.putMs / m.ms : undefined;
  row(`first put of a fresh ${sizeLabel(cfg.bigBytes)} ≤ 10× a ${sizeLabel(cfg.bigBytes)} memcpy`, fp === undefined ? '—' : `${fmtMs(b.putMs)} vs ${fmtMs(m.ms)} = ${fmtRatio(fp)}`, fp && 10 / fp, pages);
  const inter = v('inter-node');
  const perGiBMs = (mibPerSec) => (1024 / mibPerSec) * 1000;
  const pull = inter && m ? perGiBMs(inter.mibPerSec) / (m.ms * GiB / cfg.bigBytes) : undefined;
  row(`inter-node pull of ${cfg.interNodeMiB} MiB ≤ 10× a memcpy of the same bytes (median run)`, pull === undefined ? failed('inter-node') : `${fmtNum(inter.mibPerSec)} MiB/s = ${fmtRatio(pull)} the memcpy`, pull && 10 / pull,
    inter ? `runs ${inter.runs.join(', ')} MiB/s; ${pages} (each node's store needs its own)` : '');
  const slowest = inter ? Math.min(...inter.runs) : undefined;
  row(`inter-node: the slowest of ${cfg.interNodeRuns} runs ≥ 0.4× a raw TCP loopback stream`, inter?.rawMibPerSec ? `${fmtNum(slowest)} vs ${fmtNum(inter.rawMibPerSec)} MiB/s = ${fmtRatio(slowest / inter.rawMibPerSec)}` : failed('inter-node'), inter?.rawMibPerSec ? slowest / inter.rawMibPerSec / 0.4 : undefined,
    inter ? `raw TCP runs ${inter.rawRuns.join(', ')} MiB/s; the bare grpc-js stream of the same bytes (rayts's options, no store): ${fmtNum(inter.grpcMibPerSec)} MiB/s` : '');
  const cr = ry?.copy && pis?.copy ? ry.copy.mibPerSec / pis.copy.mibPerSec : undefined;
  row(`${sizeLabel(cfg.payloadBytes)} round trip ≥ 4× piscina's structured clone`, cr === undefined ? '—' : `${fmtNum(ry.copy.mibPerSec)} vs ${fmtNum(pis.copy.mibPerSec)} MiB/s = ${fmtRatio(cr)}`, cr && cr / 4);
  const gr = b && m ? b.firstGetMs / m.ms : undefined;
  row(`same-node get of ${sizeLabel(cfg.bigBytes)} < 1 % of a ${sizeLabel(cfg.bigBytes)} memcpy`, gr === undefined ? '—' : `${fmtMs(b.firstGetMs)} vs ${fmtMs(m.ms)} = ${(gr * 100).toFixed(2)} %`, gr && 0.01 / gr,
    b && m ? `${b.isCopyOfDriverArray ? 'get returned the driver\'s own array, not a store view; ' : ''}repeated gets of the same ref: ${fmtMs(b.getMs)} = ${((b.getMs / m.ms) * 100).toFixed(2)} %` : '');
  const sp = v('spill');
  const spillNote = sp ? `${sp.n} × ${sp.objMiB} MiB through a ${sp.storeMiB} MiB store, median of ${sp.runs.length}; reads ${sp.reads}; disk ${sp.disk}` : '';
  row('spill ≥ 0.8× a sequential write + fsync of the same bytes', sp ? `${fmtNum(sp.spillMiBps)} vs ${fmtNum(sp.writeMiBps)} MiB/s` : failed('spill'), sp && sp.spillMiBps / sp.writeMiBps / 0.8, spillNote);
  row('restore ≥ 0.8× a sequential read of them', sp ? `${fmtNum(sp.restoreMiBps)} vs ${fmtNum(sp.readMiBps)} MiB/s` : failed('spill'), sp && sp.restoreMiBps / sp.readMiBps / 0.8, spillNote);
}
const targetHeader = ['Target', 'Measured', 'Measured ÷ target (≥ 1× = met)', 'Status', 'Note'];

console.log(`\nDone in ${totalS.toFixed(0)} s. Load average ${machine.loadBefore} before, ${machine.loadAfter} after; other processes kept the CPUs ${fmtBusy(machine.busyBefore)} before, ${fmtBusy(machine.others)} during, ${fmtBusy(machine.busyAfter)} after.\n`);
console.log(textTable(mainHeader, mainRows));
console.log('\n' + textTable(['Limit', 'Measured'], limitRows));
console.log('\n' + textTable(ratioHeader, ratioRows));
console.log('\n' + textTable(targetHeader.slice(0, 4), targets.map((t) => t.slice(0, 4).map((c) => String(c).replace(/\*\*/g, '')))));

// ---------------------------------------------------------------------------------------------
// Leftovers (this run's processes, /dev/shm entries)
// ---------------------------------------------------------------------------------------------
await new Promise((r) => setTimeout(r, 500));
const left = leftoverProcesses();
const shmNew = safeList('/dev/shm').filter((f) => !shmBefore.has(f));
console.log(`\nLeftover processes of this run: ${left.length ? left.join('; ') : 'none'}`);
console.log(`New entries in /dev/shm: ${shmNew.length ? shmNew.join(', ') + ' (may belong to other runs on this host)' : 'none'}`);

// ---------------------------------------------------------------------------------------------
// docs/performance.md
// ---------------------------------------------------------------------------------------------
if (docPath) {
  const notes = [];
  if (quick) notes.push('This is a `--quick` smoke run: short loops and small payloads; do not quote these figures.');
  for (const key of Object.keys(R)) if (err(key)) notes.push(`${key} failed: ${err(key)}`);
  if (v('workerpool-processes')?.copyError) notes.push(`workerpool (processes) (c) failed: ${v('workerpool-processes').copyError}`);
  if (v('bullmq')?.asyncScaledDown) notes.push(`BullMQ (b) was scaled down: ${v('bullmq').asyncScaledDown}.`);
  const md = `# Performance

Produced by \`node scripts/bench/run.mjs\` (build first: \`npm run build\`; the peers are not dependencies of rayts:
\`npm install --no-save piscina@^5.3.2 workerpool@^10.0.3 bullmq@^6.7.0 ioredis@^6\`; BullMQ needs Debian's
\`redis-server\`, which the script starts on a free port and stops). \`--quick\` is a smoke run that
does not write this file. All figures below come from one run on one machine; compare them as
ratios, not as constants (the peer figures in the project's reference notes were taken on a
similar 2-vCPU VM). Nothing here is a test: no time is asserted. \`rayts microbenchmark\` figures (Ray's cases, actors and placement groups included) are in
\`docs/microbenchmarks.md\`.

- Machine: ${machine.nproc} × ${machine.model}, ${machine.memGiB.toFixed(1)} GiB RAM, Linux ${machine.kernel}, Node ${machine.node}; ${memoryLine()}
- Date: ${machine.date}; whole run ${totalS.toFixed(0)} s
- Other work on the host (the machine is shared): other processes kept the CPUs ${fmtBusy(machine.busyBefore)} in the 2 s before the run, ${fmtBusy(machine.others)} during it (machine total minus this run's processes), ${fmtBusy(machine.busyAfter)} after; load average ${machine.loadBefore} before, ${machine.loadAfter} after. Anything else running lowers every figure.
- Packages: ${Object.entries(versions).map(([k, x]) => `${k} ${x ?? '?'}`).join(', ')}

Method: (a) sync = submit one no-op task, await it, loop for ${cfg.syncSeconds} s (after a warm-up) → tasks/s;
(b) async = submit ${fmtNum(cfg.asyncTasks)} no-op tasks, await all → tasks/s; (c) a ${sizeLabel(cfg.payloadBytes)} Uint8Array
sent to a task that returns it; round-trip time (median of ${cfg.copyReps}; ${cfg.slowCopyReps} for workerpool processes and BullMQ)
and MiB/s counting the bytes both ways (2 × size / RTT). Everything unpinned.

## Side by side

${mdTable(mainHeader, mainRows)}

rayts's fast path is the zero-copy one: \`ref = await ray.put(buf)\`, a task that returns the value's length,
then \`ray.get(ref)\` on the driver, which returns a view over the node's shared-memory store.

## Ratios (rayts ÷ peer; above 1× rayts is faster)

${mdTable(ratioHeader, ratioRows)}

## Limits

${mdTable(['Limit', 'Measured'], limitRows)}

## Acceptance targets

${mdTable(targetHeader, targets)}

${(() => {
  const met = targets.filter((t) => t[3] === '**met**').map((t) => t[0]);
  const notMet = targets.filter((t) => t[3] === '**not met**').map((t) => `${t[0]} (${t[2]} of the bar)`);
  return `Met: ${met.length ? met.join('; ') : 'none'}. Not met: ${notMet.length ? notMet.join('; ') : 'none'}.`;
})()}
${notes.length ? `\n## Notes\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;
  // Sections this script does not write (task events, jobs, spilling, … from the other scripts) stay as they were.
  const kept = existsSync(docPath) ? readFileSync(docPath, 'utf8').split(/\n(?=## )/).filter((part) => /^## /.test(part) && !/^## (Side by side|Ratios|Limits|Acceptance targets|Notes)\b/.test(part)) : [];
  writeFileSync(docPath, [md.trimEnd(), ...kept.map((part) => part.trimEnd())].join('\n\n') + '\n');
  console.log(`\nWrote ${relative(process.cwd(), docPath)}`);
}

rmSync(privateDir, { recursive: true, force: true });
process.exit(0);
