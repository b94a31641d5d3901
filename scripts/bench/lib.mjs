// Shared helpers for the peer benchmarks: timing loops, payloads, and a cleanup registry that
// closes every pool, child process and server even when a step throws or the run is interrupted.
import { fork, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const now = () => performance.now();
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Calls `fn` (awaited) in a loop for `seconds` after a short warm-up; calls/s and µs per call. */
export async function syncRate(fn, seconds) {
  const warmEnd = now() + Math.max(200, seconds * 100);
  while (now() < warmEnd) await fn();
  let n = 0;
  const t0 = now();
  const end = t0 + seconds * 1000;
  while (now() < end) { await fn(); n++; }
  const ms = now() - t0;
  return { perSec: (n / ms) * 1000, usPerCall: (ms / n) * 1000, calls: n };
}

/** Times `fn(n)`, which must submit n units of work and await them all; units/s. */
export async function batchRate(fn, n) {
  const t0 = now();
  await fn(n);
  const ms = now() - t0;
  return { perSec: (n / ms) * 1000, ms, n };
}

/** Round trip of a `bytes`-sized payload, `reps` times; MiB/s counts bytes both ways (2 × size / RTT). */
export async function roundTrips(bytes, reps, fn) {
  const runs = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    await fn(i);
    runs.push(now() - t0);
  }
  const ms = median(runs);
  return { ms, runs, bytes, mibPerSec: (2 * bytes) / MiB / (ms / 1000) };
}

export function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/** A Uint8Array that owns its whole ArrayBuffer, filled with a non-trivial pattern (touched). */
export function makePayload(bytes) {
  const out = new Uint8Array(bytes);
  const block = new Uint8Array(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (Math.imul(i, 2654435761) >>> 24) & 0xff;
  for (let off = 0; off < bytes; off += block.length) out.set(block.subarray(0, Math.min(block.length, bytes - off)), off);
  return out;
}

/** A fresh buffer's first touch here, in ms per GiB (256 MiB measured): what every receiver of fresh memory pays. */
export function firstTouchMsPerGiB() {
  const t0 = performance.now();
  const b = new Uint8Array(256 * MiB);
  for (let at = 0; at < b.length; at += 4096) b[at] = 1;
  return (performance.now() - t0) * 4;
}

export function checkLength(what, got, want) {
  if (got !== want) throw new Error(`${what}: expected ${want} bytes back, got ${got}`);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let gcFn;
/** Best-effort full GC between sections, so one peer's garbage does not slow the next. */
export function tryGc() {
  try {
    if (!gcFn) {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc');
    }
    gcFn();
  } catch { /* not available */ }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Cleanup registry
// ---------------------------------------------------------------------------------------------

const openScopes = new Set();
const liveChildren = new Set();

/** A child process that must not outlive the benchmark: SIGKILLed at exit if still running. */
export function trackChild(child) {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

/** Stops a child: SIGTERM (or a custom `ask`), then SIGKILL after `graceMs`. */
export async function stopChild(child, graceMs = 5000, ask) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try { ask ? ask() : child.kill('SIGTERM'); } catch { /* already gone */ }
  const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
  await exited;
  clearTimeout(t);
}

/** Cleanups for one section, closed in reverse order; every open scope is also closed on SIGINT/SIGTERM. */
export class Scope {
  constructor(name) { this.name = name; this.fns = []; openScopes.add(this); }
  add(fn) { this.fns.push(fn); return fn; }
  async close() {
    openScopes.delete(this);
    const errors = [];
    while (this.fns.length) {
      const fn = this.fns.pop();
      try { await withTimeout(Promise.resolve().then(fn), 60_000, `cleanup in ${this.name}`); } catch (err) { errors.push(err); }
    }
    if (errors.length) console.error(`[${this.name}] cleanup: ${errors.map((e) => e.message).join('; ')}`);
  }
}

/** Runs `body(scope)` and closes the scope whatever happens; returns { value } or { error }. */
export async function section(name, body, timeoutMs) {
  const scope = new Scope(name);
  try {
    return { value: await withTimeout(body(scope), timeoutMs, name) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  } finally {
    await scope.close();
  }
}

let installed = false;
export function installExitHandlers(extraSyncCleanup) {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const c of liveChildren) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
    try { extraSyncCleanup?.(); } catch { /* best effort */ }
  });
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, async () => {
      if (stopping) process.exit(130);
      stopping = true;
      console.error(`\n${sig}: stopping every pool, child and server that the benchmark started…`);
      await Promise.allSettled([...openScopes].map((s) => s.close()));
      process.exit(130);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

export function fmtNum(x, digits = 0) {
  if (x === undefined || x === null || Number.isNaN(x)) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtMs(ms) {
  if (ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${fmtNum(ms)} ms`;
}

export function fmtRatio(r) {
  if (r === undefined || !Number.isFinite(r)) return '—';
  if (r >= 100) return `${fmtNum(r)}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  if (r >= 0.01) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(2)}×`;
}

/** Plain-text table (for the terminal). */
export function textTable(header, rows) {
  const widths = header.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells) => cells.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Markdown table. */
export function mdTable(header, rows) {
  const esc = (c) => String(c ?? '').replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** `--name value` from argv, else `fallback`. */
export function optionOf(argv, name, fallback) {
  const at = argv.indexOf(name);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1] : fallback;
}

/** Runs `node bin ...args` to its end; resolves with stdout, rejects with both outputs on a non-zero exit. */
export function runCli(bin, args, env, cwd) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`${bin} ${args.join(' ')} exited ${code}:\n${out}\n${err}`))));
  });
}

/**
 * The raw TCP baseline: `payload` streamed over one loopback connection (4 MiB writes) to a forked
 * sink that reads it into a fresh buffer of its size (workers/raw-socket-sink.mjs), or with `warm`
 * into one it touched before the runs; `runs` times; the time of each, until the sink's answer.
 */
export async function rawSocketMs(payload, runs, { warm = false } = {}) {
  const sink = fork(new URL('./workers/raw-socket-sink.mjs', import.meta.url), warm ? [String(payload.length)] : [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  try {
    const port = await new Promise((r) => sink.stdout.once('data', (d) => r(Number(String(d).trim()))));
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await new Promise((resolveRun, reject) => {
        const s = connect(port, '127.0.0.1', () => {
          const header = Buffer.alloc(8);
          header.writeBigUInt64LE(BigInt(payload.length));
          s.write(header);
          for (let at = 0; at < payload.length; at += 4 * MiB) s.write(payload.subarray(at, Math.min(payload.length, at + 4 * MiB)));
        });
        s.once('data', () => { s.destroy(); resolveRun(); });
        s.on('error', reject);
      });
      times.push(performance.now() - t0);
    }
    return times;
  } finally {
    sink.kill();
  }
}
