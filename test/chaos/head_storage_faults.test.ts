/**
 * GCS storage faults (issue 16): a full disk under the head's state dir makes writes fail with an
 * error that says so (the head stays up and serves again once space is freed); a damaged gcs.db stops
 * the head with a message naming the file and what to do, and leaves the file as it was (no new
 * cluster id is minted).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GcsClient, pollUntil } from '@rayts/common';
import { DB_FILE, openDatabase } from '@rayts/gcs';
import { alive, useCluster } from '../helpers/cluster.js';

const newCluster = useCluster();

describe('head storage faults', () => {
  it('a full disk under the state dir: writes fail with a clear error, the head stays up and writes again once space is freed', async () => {
    const cluster = newCluster();
    const small = cluster.tempDir('small-disk');
    mkdirSync(small, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', small]);
    let gcs: GcsClient | undefined;
    try {
      const head = await cluster.startHead({ name: 'small-disk/head', numCpus: 1 });
      gcs = new GcsClient(head.gcsAddress, { token: readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim(), timeoutMs: 10_000 });
      expect(await gcs.kvPut('disk', 'before', Buffer.from('x'))).toBe(true);

      // Fill the filesystem to the last block.
      const filler = join(small, 'filler');
      const { bavail, bsize } = statfsSync(small);
      writeFileSync(filler, Buffer.alloc(Number(bavail) * Number(bsize)));
      for (let i = 0; ; i++) {
        try { writeFileSync(join(small, `filler-${i}`), Buffer.alloc(4096)); } catch { break; }
      }
      const err = await gcs.kvPut('disk', 'during', Buffer.alloc(64 * 1024, 1)).catch((e: unknown) => e as Error);
      console.log(`kv put on a full disk: ${String(err)}`);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(`RESOURCE_EXHAUSTED KvPut failed: the head's state database ${join(head.tempDir, 'state', 'gcs.db')} cannot be written: its disk is full`);
      expect((err as Error).message).toContain(`free space on the filesystem that holds ${join(head.tempDir, 'state')}`);
      expect(alive(head.headPid!)).toBe(true);
      const status = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
      expect(status.code, status.stderr).toBe(0);

      rmSync(filler);
      expect(await gcs.kvPut('disk', 'after', Buffer.from('x'))).toBe(true);
      expect(alive(head.headPid!)).toBe(true);

      // A head restarted on a full disk: a clear error and exit 1, not a stack; with room again it starts, its state intact.
      for (let i = 0; ; i++) {
        try { writeFileSync(join(small, `filler-again-${i}`), Buffer.alloc(1024 * 1024)); } catch { break; }
      }
      for (let i = 0; ; i++) {
        try { writeFileSync(join(small, `filler-small-${i}`), Buffer.alloc(4096)); } catch { break; }
      }
      process.kill(head.headPid!, 'SIGKILL');
      expect(await pollUntil(() => !alive(head.headPid!), 5000)).toBe(true);
      const port = head.gcsAddress.split(':')[1]!;
      const args = ['start', '--head', `--port=${port}`, '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`];
      const full = await cluster.rayts(args);
      expect(full.code).toBe(1);
      expect(full.stderr).toMatch(/^Error: no space left on the disk \(ENOSPC: no space left on device/m);
      expect(full.stderr).toContain('free space on the filesystem of the temp dir');
      for (const f of readdirSync(small).filter((n) => n.startsWith('filler'))) rmSync(join(small, f));
      const restart = await cluster.rayts(args);
      expect(restart.code, restart.stderr).toBe(0);
      expect((await gcs.kvGet('disk', 'before'))?.toString()).toBe('x');
      expect((await gcs.kvGet('disk', 'after'))?.toString()).toBe('x');
      expect(await gcs.kvGet('disk', 'during')).toBeUndefined();
    } finally {
      gcs?.close();
      // Detached now, so the cleanup after the test can remove the (then empty) mount point.
      execFileSync('umount', ['-l', small]);
    }
  });

  it('a damaged gcs.db stops the head with a message naming the file and what to do, and leaves the file as it was', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    // The head node goes down hard (a crash); its WAL is then folded into the file, so the damage below is what SQLite reads.
    for (const pid of [head.headPid!, head.rayletPid]) process.kill(pid, 'SIGKILL');
    expect(await pollUntil(() => !alive(head.headPid!) && !alive(head.rayletPid), 10_000)).toBe(true);
    const stateDir = join(head.tempDir, 'state');
    const db = openDatabase(stateDir);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const dbFile = join(stateDir, DB_FILE);
    // Scribble over every page but the header page.
    const bytes = readFileSync(dbFile);
    const pageSize = bytes.readUInt16BE(16);
    expect(bytes.length).toBeGreaterThan(2 * pageSize);
    bytes.fill(0xaa, pageSize);
    writeFileSync(dbFile, bytes);

    const start = await cluster.rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`]);
    console.log(`rayts start --head on a damaged gcs.db: exit ${start.code}\n${start.stderr}`);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`the head's state database ${dbFile} is damaged`);
    expect(start.stderr).toContain('restore it from a backup, or move it away to start a NEW cluster');
    // Untouched: no new cluster id was written into it (nor a new file made in its place).
    expect(readFileSync(dbFile).equals(bytes)).toBe(true);
  });
});
