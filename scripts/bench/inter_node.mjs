#!/usr/bin/env node
// Inter-node object transfer (issue 3: 1 GiB at ≥ 800 MiB/s): starts a two-node cluster on this
// host (127.0.0.1 and 127.0.0.2, private temp dir and registry), puts a 1 GiB Uint8Array on the
// first node and times a task pinned to the second node that reads it (the second raylet pulls it
// over gRPC in chunks). The time of the same task on a 1-byte array is subtracted. Stops the cluster.
// For scale, it also measures the transport's own ceiling in the same run: a bare gRPC server with
// rayts's options streaming the same bytes from memory to a client that copies them into a buffer,
// and a raw TCP loopback stream of them into a touched buffer in another process (no gRPC, no store).
//   node scripts/bench/inter_node.mjs [MiB=1024] [repeats=3]
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePayload, rawSocketMs } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/rayts.js');
const mib = Number(process.argv[2] ?? 1024);
const repeats = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'rayts-internode-'));
const env = { ...process.env, RAYTS_REGISTRY_DIR: join(dir, 'registry'), RAYTS_LOG_LEVEL: 'debug' };
const store = `--object-store-memory=${Math.ceil((mib * 2.5) / 1024)}GiB`;
const rayts = (args) => execFileSync(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

try {
  rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--ray-client-server-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${join(dir, 'a')}`, '--num-cpus=1', store]);
  const head = JSON.parse(readFileSync(join(dir, 'a/session_latest/head.json'), 'utf8'));
  rayts(['start', `--address=${head.address}`, `--token-file=${join(dir, 'a/state/token')}`, '--node-ip-address=127.0.0.2',
    `--temp-dir=${join(dir, 'b')}`, '--num-cpus=1', store]);
  const driver = `
    import * as ray from ${JSON.stringify(join(root, 'packages/api/dist/index.js'))};
    await ray.init({ address: ${JSON.stringify(head.address)} });
    const other = (await ray.nodes()).find((n) => n.Alive && n.NodeManagerAddress === '127.0.0.2').NodeID;
    const len = ray.remote((b) => b.length).options({ scheduling: { nodeId: other, soft: false }, numCpus: 0 });
    const time = async (ref) => { const t = performance.now(); await ray.get(len.remote(ref)); return performance.now() - t; };
    const tiny = await ray.put(new Uint8Array(1));
    await time(tiny);
    const base = Math.min(await time(tiny), await time(tiny), await time(tiny));
    const runs = [];
    for (let i = 0; i < ${repeats}; i++) {
      const arr = new Uint8Array(${mib} * 1024 * 1024).fill(i + 1);
      const ref = await ray.put(arr);
      runs.push(await time(ref) - base);
      await ray.free([ref]);
    }
    await ray.shutdown();
    console.log(JSON.stringify({ base, runs }));
  `;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', driver], { env, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  const { base, runs } = JSON.parse(out.stdout.trim().split('\n').pop());
  const rates = runs.map((ms) => mib / (ms / 1000));
  const pulls = readFileSync(join(dir, 'b/session_latest/logs/raylet.log'), 'utf8').split('\n').filter((l) => l.includes('"pulled object"'))
    .map((l) => JSON.parse(l)).map((l) => `${l.MiBps} MiB/s`);
  const ceiling = await grpcCeiling();
  console.log(`bare gRPC stream of ${mib} MiB (8 MiB messages, same options, no object store): ${ceiling.map((r) => `${r.toFixed(0)} MiB/s`).join(', ')}`);
  const raw = (await rawSocketMs(makePayload(mib * 1024 * 1024), repeats, { warm: true })).map((ms) => mib / (ms / 1000));
  console.log(`raw TCP loopback stream of ${mib} MiB (into a touched buffer in another process): ${raw.map((r) => `${r.toFixed(0)} MiB/s`).join(', ')}`);
  console.log(`inter-node transfer of ${mib} MiB: ${rates.map((r) => `${r.toFixed(0)} MiB/s`).join(', ')} (task time minus a ${base.toFixed(1)} ms no-op task); the raylet's own pull: ${pulls.join(', ')}`);
} finally {
  spawnSync(process.execPath, [bin, 'stop', '--force'], { env, stdio: 'ignore' });
  if (process.env.KEEP) console.log("kept", dir); else rmSync(dir, { recursive: true, force: true });
}

async function grpcCeiling() {
  const common = await import('../../packages/common/dist/index.js');
  const server = fork(join(root, 'scripts/bench/workers/grpc-stream-server.mjs'), [String(mib), '8']);
  try {
    const port = await new Promise((resolve) => server.once('message', resolve));
    const client = new common.RayletClient(`127.0.0.1:${port}`, { token: 'bench', timeoutMs: 10_000 });
    const rates = [];
    for (let i = 0; i < repeats; i++) {
      const into = Buffer.allocUnsafe(mib * 1024 * 1024).fill(0);
      const t = performance.now();
      await client.pullObject('bench', (c) => into.set(c.data, c.offset));
      rates.push(mib / ((performance.now() - t) / 1000));
    }
    client.close();
    return rates;
  } finally {
    server.disconnect();
  }
}
