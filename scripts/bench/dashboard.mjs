#!/usr/bin/env node
// The dashboard's web page: (1) what a first load costs on the wire — the gzip size of the JS and
// CSS that index.html names (the budget is 300 KB); (2) how long the overview takes to show its data
// on loopback — from navigation start to the alive-node count being on screen — in Debian's Chromium
// (playwright-core, headless), cold (a new browser context, nothing cached) and warm (a reload of
// the same page, assets cached). Starts a one-node cluster of its own and stops it. A benchmark, not a
// test: nothing is asserted.
//
//   node scripts/bench/dashboard.mjs [--runs N]
//
// Build first (`npm run build`: the daemons and the page).
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { median, optionOf, runCli } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/rayts.js');
const dist = join(root, 'packages/dashboard/web-dist');
const CHROMIUM = '/usr/bin/chromium';
const runs = Number(optionOf(process.argv.slice(2), '--runs', '7'));
if (!Number.isInteger(runs) || runs < 1) {
  console.error('--runs must be a positive integer');
  process.exit(2);
}
if (!existsSync(join(dist, 'index.html'))) {
  console.error(`no built page in ${dist}: run \`npm run build:web\` first`);
  process.exit(2);
}

// (1) First-load bytes: the assets index.html names, as the server sends them (gzip).
const index = readFileSync(join(dist, 'index.html'), 'utf8');
const named = [...index.matchAll(/(?:src|href)="\/assets\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const sizes = named.map((name) => {
  const path = join(dist, 'assets', name);
  return { name, raw: statSync(path).size, gzip: existsSync(`${path}.gz`) ? statSync(`${path}.gz`).size : statSync(path).size };
});
const firstLoad = sizes.reduce((n, s) => n + s.gzip, 0);

// (2) Time to the overview's data, on a cluster of its own.
const dir = mkdtempSync(join(tmpdir(), 'rayts-bench-dashboard-'));
const env = { ...process.env, RAYTS_REGISTRY_DIR: join(dir, 'registry'), RAYTS_TMPDIR: join(dir, 'tmp'), NO_COLOR: '1' };
delete env.RAYTS_ADDRESS;
const clusterDir = join(dir, 'cluster');
const cold = [];
const warm = [];
let browser;
try {
  await runCli(bin, ['start', '--head', '--port=0', '--dashboard-port=0', '--ray-client-server-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${clusterDir}`, '--num-cpus=2'], env, dir);
  const head = JSON.parse(readFileSync(join(clusterDir, 'session_latest', 'head.json'), 'utf8'));
  const url = head.dashboardUrl;
  const token = readFileSync(join(head.stateDir, 'token'), 'utf8').trim();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });

  const newSession = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const login = await context.request.post(`${url}/api/login`, { data: { token }, headers: { origin: url } });
    if (!login.ok()) throw new Error(`login failed: ${login.status()} ${await login.text()}`);
    return context;
  };
  /** Navigation start → the alive-node count on screen, in ms (the page's own clock). */
  const overview = async (page, reload = false) => {
    if (reload) await page.reload({ waitUntil: 'commit' });
    else await page.goto(`${url}/#/`, { waitUntil: 'commit' });
    const ms = await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="nodes-alive"]');
      return el && el.textContent !== '' ? performance.now() : false;
    }, undefined, { polling: 'raf', timeout: 30_000 });
    return ms.jsonValue();
  };
  await overview(await (await newSession()).newPage()); // warm the head's routes and the OS caches once
  for (let i = 0; i < runs; i++) {
    const context = await newSession();
    const page = await context.newPage();
    cold.push(await overview(page));
    warm.push(await overview(page, true));
    await context.close();
  }
} finally {
  await browser?.close();
  await runCli(bin, ['stop', `--temp-dir=${clusterDir}`], env, dir).catch((err) => console.error(err.message));
  rmSync(dir, { recursive: true, force: true });
}

const chromiumVersion = (() => { try { return execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return 'chromium (version unknown)'; } })();
const fmt = (xs) => `median ${median(xs).toFixed(0)} ms (runs ${xs.map((x) => x.toFixed(0)).join(', ')})`;
console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, Node ${process.version}, ${chromiumVersion}`);
console.log(`Date: ${new Date().toISOString()}`);
console.log(`First load (JS + CSS that index.html names, gzip as sent): ${(firstLoad / 1024).toFixed(1)} KiB of the 300 KB budget`);
for (const s of sizes) console.log(`  ${s.name}: ${(s.raw / 1024).toFixed(1)} KiB, ${(s.gzip / 1024).toFixed(1)} KiB gzip`);
console.log(`Overview data visible after navigation start, cold (new context, nothing cached): ${fmt(cold)}`);
console.log(`Overview data visible after navigation start, warm (a reload, assets cached): ${fmt(warm)}`);
