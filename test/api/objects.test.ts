/**
 * Objects in the shared-memory store, across real nodes. A 512 MiB array is read in place (no
 * copy: the task's anonymous memory does not grow and its bytes are the arena's); another node gets
 * identical bytes; a 128 MiB store takes 20 × 32 MiB puts by spilling and gives them all back
 * byte-exact; free empties the spill directory; a full spill filesystem gives OutOfDiskError and the
 * raylet keeps serving; a lost task output is rebuilt by re-running its task; a pull into a full
 * store fails for its reader only. After each test no shared-memory segment of rayts is left.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { BIN, FAST_HEALTH, alive, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';
import { VIA_CLIENT } from '../helpers/via_client.js';

const mounts: string[] = [];
const newCluster = useCluster({
  beforeCleanup() {
    // Lazy unmount first: the daemons may still hold files there until cleanup kills them.
    for (const m of mounts.splice(0)) {
      try { execFileSync('umount', ['-l', m]); } catch { /* not mounted */ }
    }
  },
  afterCleanup() {
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith('rayts'))).toEqual([]);
  },
});

/** What objects/read_in_place.mjs reports for one task that read the array. */
interface ArrayRead { checksum: number; anonGrowth: number; backingBytes: number; length: number; nodeIp: string }

const MiB = 1024 * 1024;

describe('objects in the shared-memory store', () => {
  it('a 512 MiB array is read in place on its node and arrives byte-exact on another', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 2, args: ['--object-store-memory=1200MiB'] });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, args: ['--object-store-memory=700MiB'] });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'objects/read_in_place.mjs', { address: head.gcsAddress, nodes: [head.nodeIp, w2.nodeIp] });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ expected: number; here: ArrayRead; remotes: ArrayRead[]; localLength: number; nodes: string[] }>(run);
    expect(r.here.nodeIp).toBe('127.0.0.1');
    expect(r.here.checksum).toBe(r.expected);
    expect(r.here.length).toBe(512 * MiB / 8);
    // The task's array is a view over the arena (its backing buffer is an arena segment, not 512 MiB
    // of its own) and reading all of it added no anonymous memory: no copy was made.
    expect(r.here.backingBytes).not.toBe(512 * MiB);
    expect(r.here.anonGrowth).toBeLessThan(64 * MiB);
    const onW2 = r.remotes.find((x: { nodeIp: string }) => x.nodeIp === '127.0.0.2');
    expect(onW2, JSON.stringify(r.remotes)).toBeDefined();
    expect(onW2!.checksum).toBe(r.expected);
    expect(r.localLength).toBe(512 * MiB / 8);
  });

  it("a driver's shutdown closes the store it mapped; a value read before stays readable, and init again works", async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1, args: ['--object-store-memory=256MiB'] });
    const run = await runDriver(cluster, makeUserProject(cluster), 'objects/shutdown_releases_store.mjs', { address: head.gcsAddress });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ whileConnected: number; afterShutdown: number; readAfterShutdown: number; againByte: number; afterSecondShutdown: number }>(run);
    if (VIA_CLIENT) {
      expect(r.whileConnected).toBe(0); // a remote client maps no store: its bytes go through the head
    } else {
      expect(r.whileConnected).toBeGreaterThan(0);
    }
    expect(r.afterShutdown).toBe(0);
    expect(r.afterSecondShutdown).toBe(0);
    expect(r.readAfterShutdown).toBe(14);
    expect(r.againByte).toBe(9);
  });

  it('20 × 32 MiB puts into a 128 MiB store spill, come back byte-exact, and free empties the spill dir', async () => {
    const cluster = newCluster();
    const spillDir = join(cluster.root, 'spill');
    const head = await cluster.startHead({ numCpus: 1, args: ['--object-store-memory=128MiB', `--object-spilling-directory=${spillDir}`] });
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'objects/spill_and_free.mjs', { address: head.gcsAddress, spillDir, raytsBin: BIN, tempDir: head.tempDir });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ equal: boolean; count: number; spilledFiles: number; leftAfterFree: number; memory: string }>(run);
    expect(r.count).toBe(20);
    expect(r.equal).toBe(true);
    expect(r.spilledFiles).toBeGreaterThan(0);
    expect(r.memory).toMatch(/Spilled \d+ MiB, \d+ objects/);
    expect(r.leftAfterFree).toBe(0);
  });

  it('a full spill filesystem gives OutOfDiskError and the raylet keeps serving', async () => {
    const cluster = newCluster();
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
    const run = await runDriver(cluster, dir, 'objects/spill_disk_full.mjs', { address: head.gcsAddress });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ error?: { cls: string; msg: string }; stored: number; after: number }>(run);
    expect(r.error?.cls).toBe('OutOfDiskError');
    expect(r.stored).toBeGreaterThan(0);
    expect(r.after).toBe(42);
    expect(alive(head.rayletPid)).toBe(true);
  });

  it('a lost task output is rebuilt by re-running the task on another node', async () => {
    const cluster = newCluster({ ...FAST_HEALTH, RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 1 });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, resources: '{"victim":1}' });
    const w3 = await cluster.startWorker(head, { name: 'w3', ip: '127.0.0.3', numCpus: 1, resources: '{"victim":1}' });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 3);
    const dir = makeUserProject(cluster);
    const ranOn = join(cluster.root, 'ran-on');
    const proceed = join(cluster.root, 'proceed');
    const done = runDriver(cluster, dir, 'objects/rebuild_task_output.mjs', { address: head.gcsAddress, ranOn, proceed });
    expect(await pollUntil(() => existsSync(ranOn) && readFileSync(ranOn, 'utf8').trim().length > 0, 60_000)).toBe(true);
    const firstIp = readFileSync(ranOn, 'utf8').trim();
    const victim = firstIp === '127.0.0.2' ? w2 : w3;
    process.kill(victim.rayletPid, 'SIGKILL');
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    writeFileSync(proceed, '');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf<{ bytesOk: boolean }>(r).bytesOk).toBe(true);
    const ips = readFileSync(ranOn, 'utf8').trim().split('\n');
    expect(ips).toHaveLength(2);
    expect(ips[1]).not.toBe(firstIp);
  });
});

describe('pulls into a full store', () => {
  it('a pull that finds no room gives ObjectStoreFullError to the reader; the raylet keeps serving', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200', RAYTS_OBJECT_STORE_FULL_TIMEOUT_MS: '500' });
    const head = await cluster.startHead({ numCpus: 1, args: ['--object-store-memory=200MiB'] });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, args: ['--object-store-memory=100MiB'] });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'objects/pull_into_full_store.mjs', { address: head.gcsAddress });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ error: unknown; small: number }>(run);
    expect(JSON.stringify(r.error)).toContain('ObjectStoreFullError');
    expect(r.small).toBe(200 * 1024);
    expect(alive(w2.rayletPid)).toBe(true);
    expect(readFileSync(join(w2.sessionDir, 'logs', 'raylet.err'), 'utf8')).not.toContain('ObjectStoreFullError');
  });
});
