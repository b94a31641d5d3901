/**
 * Issue 3, acceptance 3, 4, 6 and 10: shared-memory objects. A 512 MiB array is read in place (no
 * copy: the task's anonymous memory does not grow and its bytes are the arena's); another node gets
 * identical bytes; a 128 MiB store takes 20 × 32 MiB puts by spilling and gives them all back
 * byte-exact; free empties the spill directory; a full spill filesystem gives OutOfDiskError and the
 * raylet keeps serving; a lost task output is rebuilt, a lost put raises ObjectLostError.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { FAST_HEALTH, TestCluster, alive, collect } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

let cluster: TestCluster;
const mounts: string[] = [];
afterEach(async () => {
  // Lazy unmount first: the daemons may still hold files there until cleanup kills them.
  for (const m of mounts.splice(0)) {
    try { execFileSync('umount', ['-l', m]); } catch { /* not mounted */ }
  }
  const { leftover } = await cluster.cleanup();
  expect(leftover).toEqual([]);
  expect(readdirSync('/dev/shm').filter((n) => n.startsWith('rayts'))).toEqual([]);
});

const MiB = 1024 * 1024;

describe('objects in the shared-memory store', () => {
  it('a 512 MiB array is read in place on its node and arrives byte-exact on another', async () => {
    cluster = new TestCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2, args: ['--object-store-memory=1200MiB'] });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, args: ['--object-store-memory=700MiB'] });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      const info = await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const n = 512 * 1024 * 1024 / 8;
      const big = new Float64Array(n);
      for (let i = 0; i < n; i += 4096) big[i] = i;
      const checksum = (a) => { let s = 0; for (let i = 0; i < a.length; i += 4096) s += a[i]; return s; };
      const ref = await ray.put(big);
      const inspect = ray.remote(async (arr) => {
        const fs = await import('node:fs');
        const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
        const before = anon();
        let s = 0;
        for (let i = 0; i < arr.length; i += 4096) s += arr[i];
        const after = anon();
        const ray = await import('rayts');
        return { checksum: s, anonGrowth: after - before, backingBytes: arr.buffer.byteLength, length: arr.length, nodeIp: ray.getRuntimeContext().nodeIp };
      });
      const here = await ray.get(inspect.options({ scheduling: { nodeId: info.nodeId, soft: false } }).remote(ref));
      const nodes = ${JSON.stringify([head.nodeIp, w2.nodeIp])};
      const other = await ray.get(inspect.options({ resources: {}, scheduling: 'SPREAD' }).remote(ref));
      const other2 = await ray.get(inspect.options({ scheduling: 'SPREAD' }).remote(ref));
      const local = await ray.get(ref);
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ expected: checksum(big), here, remotes: [other, other2], localLength: local.length, nodes }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.here.nodeIp).toBe('127.0.0.1');
    expect(r.here.checksum).toBe(r.expected);
    expect(r.here.length).toBe(512 * MiB / 8);
    // The task's array is a view over the arena (its backing buffer is an arena segment, not 512 MiB
    // of its own) and reading all of it added no anonymous memory: no copy was made.
    expect(r.here.backingBytes).not.toBe(512 * MiB);
    expect(r.here.anonGrowth).toBeLessThan(64 * MiB);
    const onW2 = r.remotes.find((x: { nodeIp: string }) => x.nodeIp === '127.0.0.2');
    expect(onW2, JSON.stringify(r.remotes)).toBeDefined();
    expect(onW2.checksum).toBe(r.expected);
    expect(r.localLength).toBe(512 * MiB / 8);
  });

  it('20 × 32 MiB puts into a 128 MiB store spill, come back byte-exact, and free empties the spill dir', async () => {
    cluster = new TestCluster();
    const spillDir = join(cluster.root, 'spill');
    const head = await cluster.startHead({ numCpus: 1, args: ['--object-store-memory=128MiB', `--object-spilling-directory=${spillDir}`] });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      import { createHash } from 'node:crypto';
      import { readdirSync, existsSync } from 'node:fs';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const hash = (a) => createHash('sha256').update(a).digest('hex');
      const refs = [], hashes = [];
      for (let i = 0; i < 20; i++) {
        const a = new Uint8Array(32 * 1024 * 1024);
        for (let j = 0; j < a.length; j += 997) a[j] = (i * 31 + j) & 255;
        hashes.push(hash(a));
        refs.push(await ray.put(a));
      }
      const spilledFiles = readdirSync(${JSON.stringify(spillDir)}).length;
      const back = [];
      for (let i = 19; i >= 0; i--) back[i] = hash(await ray.get(refs[i]));
      const { execFileSync } = await import('node:child_process');
      const memory = execFileSync(process.execPath, [${JSON.stringify(join(process.cwd(), 'bin/rayts.js'))}, 'memory', '--stats-only', '--address', ${JSON.stringify(head.gcsAddress)}, '--temp-dir', ${JSON.stringify(head.tempDir)}], { encoding: 'utf8' });
      await ray.free(refs);
      const start = Date.now();
      while (readdirSync(${JSON.stringify(spillDir)}).length > 0 && Date.now() - start < 10000) await new Promise((r) => setTimeout(r, 50));
      const leftAfterFree = readdirSync(${JSON.stringify(spillDir)}).length;
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ equal: back.every((h, i) => h === hashes[i]), count: back.length, spilledFiles, leftAfterFree, memory }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.count).toBe(20);
    expect(r.equal).toBe(true);
    expect(r.spilledFiles).toBeGreaterThan(0);
    expect(r.memory).toMatch(/Spilled \d+ MiB, \d+ objects/);
    expect(r.leftAfterFree).toBe(0);
  });

  it('a full spill filesystem gives OutOfDiskError and the raylet keeps serving', async () => {
    cluster = new TestCluster();
    const spillDir = join(cluster.root, 'tiny-spill');
    mkdirSync(spillDir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', spillDir]);
    } catch (err) {
      throw new Error(`this test mounts a small tmpfs and needs root: ${(err as Error).message}`);
    }
    mounts.push(spillDir);
    const head = await cluster.startHead({ numCpus: 1, args: ['--object-store-memory=80MiB', `--object-spilling-directory=${spillDir}`], env: { RAYTS_OBJECT_STORE_FULL_TIMEOUT_MS: '1000' } });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const refs = [];
      let error;
      try {
        for (let i = 0; i < 12; i++) refs.push(await ray.put(new Uint8Array(16 * 1024 * 1024).fill(i)));
      } catch (e) { error = { cls: e.constructor.name, msg: e.message }; }
      const after = await ray.get(ray.remote((x) => x + 1).remote(41));
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ error, stored: refs.length, after }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(r.error?.cls).toBe('OutOfDiskError');
    expect(r.stored).toBeGreaterThan(0);
    expect(r.after).toBe(42);
    expect(alive(head.rayletPid)).toBe(true);
  });

  it('a lost task output is rebuilt by re-running the task on another node', async () => {
    cluster = new TestCluster({ ...FAST_HEALTH, RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 1 });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, resources: '{"victim":1}' });
    const w3 = await cluster.startWorker(head, { name: 'w3', ip: '127.0.0.3', numCpus: 1, resources: '{"victim":1}' });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 3);
    const dir = makeUserProject(cluster);
    const ranOn = join(cluster.root, 'ran-on');
    const proceed = join(cluster.root, 'proceed');
    writeFileSync(join(dir, 'main.mjs'), `
      import * as ray from 'rayts';
      import { existsSync } from 'node:fs';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const make = ray.remote({ resources: { victim: 1 }, maxRetries: 2 }, async (file) => {
        const ray = await import('rayts');
        const fs = await import('node:fs');
        fs.appendFileSync(file, ray.getRuntimeContext().nodeIp + '\\n');
        return new Uint8Array(1024 * 1024).fill(9);
      });
      const ref = make.remote(${JSON.stringify(ranOn)});
      await ray.wait([ref]);
      console.log('READY');
      while (!existsSync(${JSON.stringify(proceed)})) await new Promise((r) => setTimeout(r, 20));
      const again = await ray.get(ref);
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ bytesOk: again.length === 1024 * 1024 && again[77] === 9 }));
    `);
    const driver = spawn(process.execPath, ['main.mjs'], { cwd: dir, env: cluster.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(driver, 120_000);
    expect(await pollUntil(() => existsSync(ranOn) && readFileSync(ranOn, 'utf8').trim().length > 0, 60_000)).toBe(true);
    const firstIp = readFileSync(ranOn, 'utf8').trim();
    const victim = firstIp === '127.0.0.2' ? w2 : w3;
    process.kill(victim.rayletPid, 'SIGKILL');
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    writeFileSync(proceed, '');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r).bytesOk).toBe(true);
    const ips = readFileSync(ranOn, 'utf8').trim().split('\n');
    expect(ips).toHaveLength(2);
    expect(ips[1]).not.toBe(firstIp);
  });
});

describe('pulls into a full store', () => {
  it('a pull that finds no room gives ObjectStoreFullError to the reader; the raylet keeps serving', async () => {
    cluster = new TestCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200', RAYTS_OBJECT_STORE_FULL_TIMEOUT_MS: '500' });
    const head = await cluster.startHead({ numCpus: 1, args: ['--object-store-memory=200MiB'] });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, args: ['--object-store-memory=100MiB'] });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, `
      import * as ray from 'rayts';
      await ray.init({ address: ${JSON.stringify(head.gcsAddress)} });
      const w2 = (await ray.nodes()).find((n) => n.Alive && n.NodeManagerAddress === '127.0.0.2').NodeID;
      const on2 = { scheduling: { nodeId: w2, soft: false } };
      // An actor on the second node holds 80 MiB of its store (a value it read, pinned while it lives).
      const Holder = ray.remote(class Holder {
        async hold(mib) { const ray = await import('rayts'); this.ref = await ray.put(new Uint8Array(mib * 1024 * 1024)); this.value = await ray.get(this.ref); return this.value.length; }
      });
      const holder = Holder.options(on2).remote();
      await ray.get(holder.hold.remote(80));
      const big = await ray.put(new Uint8Array(60 * 1024 * 1024).fill(9));
      const read = ray.remote((b) => b.length).options(on2);
      let error;
      try { await ray.get(read.remote(big)); error = 'no error'; } catch (e) { error = { name: e.name, message: e.message, causeName: e.cause?.name }; }
      const small = await ray.get(read.remote(await ray.put(new Uint8Array(200 * 1024).fill(1))));
      await ray.kill(holder);
      await ray.shutdown();
      console.log('RESULT ' + JSON.stringify({ error, small }));
    `);
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf(run);
    expect(JSON.stringify(r.error)).toContain('ObjectStoreFullError');
    expect(r.small).toBe(200 * 1024);
    expect(alive(w2.rayletPid)).toBe(true);
    expect(readFileSync(join(w2.sessionDir, 'logs', 'raylet.err'), 'utf8')).not.toContain('ObjectStoreFullError');
  });
});
