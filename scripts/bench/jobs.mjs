#!/usr/bin/env node
// Job submission: how long `rayts job submit` of a 1 MB working_dir takes until the job is RUNNING
// (pack, upload, placement, unpack on the node, driver start), and the upload throughput of a 200 MB
// working_dir over loopback, beside what the same disk takes to copy that archive (the limit a
// streamed upload to disk works against). Starts a one-node cluster of its own and stops it. A
// benchmark, not a test: nothing is asserted.
//
//   node scripts/bench/jobs.mjs [--runs N] [--big-mb MB]
//
// Build first (`npx tsc -b`).
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packWorkingDir } from '@rayts/common';
import { median, MiB, now, optionOf, runCli } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/rayts.js');
const argv = process.argv.slice(2);
const option = (name, fallback) => optionOf(argv, name, fallback);
const runs = Number(option('--runs', '5'));
const bigMb = Number(option('--big-mb', '200'));
if (!Number.isInteger(runs) || runs < 1 || !(bigMb > 0)) {
  console.error('--runs must be a positive integer and --big-mb a positive number');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'rayts-bench-jobs-'));
const env = { ...process.env, RAYTS_REGISTRY_DIR: join(dir, 'registry'), RAYTS_TMPDIR: join(dir, 'tmp'), NO_COLOR: '1', RAYTS_JOB_PACKAGE_MAX_BYTES: String((bigMb + 64) * MiB) };
delete env.RAYTS_ADDRESS;

const rayts = (args) => runCli(bin, args, env, dir);

function call(url, token, method, path, body) {
  return new Promise((resolvePromise, reject) => {
    const req = request(new URL(path, url), { method, headers: { authorization: `Bearer ${token}`, origin: url, 'content-type': 'application/octet-stream', ...(body?.length !== undefined ? { 'content-length': body.length } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolvePromise({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    if (body && typeof body.pipe === 'function') body.pipe(req);
    else req.end(body);
  });
}

function writeTree(at, files, bytesEach) {
  mkdirSync(at, { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(at, `f${i}.txt`), randomBytes(bytesEach * 0.75).toString('base64'));
  writeFileSync(join(at, 'main.js'), 'setTimeout(() => {}, 2000);\n');
}

const clusterDir = join(dir, 'cluster');
try {
  await rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--ray-client-server-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${clusterDir}`, '--num-cpus=2']);
  const head = JSON.parse(readFileSync(join(clusterDir, 'session_latest', 'head.json'), 'utf8'));
  const url = head.dashboardUrl;
  const token = readFileSync(join(clusterDir, 'state', 'token'), 'utf8').trim();

  // 1. Submit → RUNNING for a 1 MB working_dir (100 files of 10 KB), new content each run.
  const app = join(dir, 'app');
  writeTree(app, 100, 10 * 1024);
  const toRunning = [];
  for (let i = 0; i < runs; i++) {
    writeFileSync(join(app, 'run.txt'), `run ${i} ${Date.now()}`);
    const id = `bench-${i}`;
    const t0 = now();
    await rayts(['job', 'submit', '--no-wait', `--address=${url}`, '--working-dir', app, '--submission-id', id, '--', 'node', 'main.js']);
    for (;;) {
      const r = await call(url, token, 'GET', `/api/jobs/${id}`);
      const status = JSON.parse(r.text).status;
      if (status === 'RUNNING' || status === 'SUCCEEDED') break;
      if (status === 'FAILED') throw new Error(`job ${id} failed: ${r.text}`);
      await new Promise((r2) => setTimeout(r2, 5));
    }
    toRunning.push(now() - t0);
  }

  // 2. Upload throughput of a big working_dir (incompressible data), beside a copy of the archive on the same disk.
  const big = join(dir, 'big');
  mkdirSync(big);
  const chunk = randomBytes(MiB);
  const parts = [];
  for (let i = 0; i < bigMb; i++) parts.push(chunk.map((b) => (b + i) & 0xff));
  writeFileSync(join(big, 'data.bin'), Buffer.concat(parts));
  const tPack = now();
  const packed = await packWorkingDir(big, join(dir, 'big.tar.gz'));
  const packMs = now() - tPack;
  const name = packed.uri.slice('gcs://'.length);
  const tPut = now();
  const put = await call(url, token, 'PUT', `/api/packages/gcs/${name}`, Object.assign(createReadStream(packed.file), { length: statSync(packed.file).size }));
  const putMs = now() - tPut;
  if (put.status !== 200) throw new Error(`upload failed: ${put.status} ${put.text}`);
  const tCopy = now();
  copyFileSync(packed.file, join(dir, 'copy.tar.gz'));
  const copyMs = now() - tCopy;
  const mib = packed.size / MiB;

  console.log(`machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`submit → RUNNING, 1 MB working_dir (${runs} runs): median ${median(toRunning).toFixed(0)} ms; runs ${toRunning.map((t) => t.toFixed(0)).join(', ')} ms`);
  console.log(`pack ${bigMb} MB working_dir: ${packMs.toFixed(0)} ms (${(mib / (packMs / 1000)).toFixed(0)} MiB/s)`);
  console.log(`upload ${mib.toFixed(0)} MiB package over loopback: ${putMs.toFixed(0)} ms = ${(mib / (putMs / 1000)).toFixed(0)} MiB/s`);
  console.log(`copy of the same archive on this disk: ${copyMs.toFixed(0)} ms = ${(mib / (copyMs / 1000)).toFixed(0)} MiB/s; upload/copy ratio ${(copyMs / putMs).toFixed(2)}×`);
} finally {
  await rayts(['stop', `--temp-dir=${clusterDir}`]).catch((err) => console.error(err.message));
  rmSync(dir, { recursive: true, force: true });
}
