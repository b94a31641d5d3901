/**
 * GCS storage faults (issue 16): a full disk under the head's state dir makes writes fail with an
 * error that says so (the head stays up and serves again once space is freed); the changes the head
 * makes by itself on a full disk (a node declared dead, its actors with it) are logged as not
 * recorded and made once there is room, the head staying up meanwhile; a damaged gcs.db stops the
 * head with a message naming the file and what to do, and leaves the file as it was (no new cluster
 * id is minted).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GcsClient, pollUntil } from '@rayts/common';
import { DB_FILE, openDatabase } from '@rayts/gcs';
import { alive, killNode, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

const newCluster = useCluster();

/** Fills the filesystem at `dir` to the last block (files named filler*). */
function fill(dir: string): void {
  const { bavail, bsize } = statfsSync(dir);
  writeFileSync(join(dir, 'filler'), Buffer.alloc(Number(bavail) * Number(bsize)));
  for (let i = 0; ; i++) {
    try { writeFileSync(join(dir, `filler-${i}`), Buffer.alloc(4096)); } catch { break; }
  }
}

const lines = (file: string, text: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(text));

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

      const filler = join(small, 'filler');
      fill(small);
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

  it('a node dies while the state disk is full: the head logs that it cannot record it, stays up, and records the death (and its actor\'s) once space is freed', async () => {
    const cluster = newCluster({
      RAYTS_HEALTH_CHECK_INITIAL_DELAY_MS: '0', RAYTS_HEALTH_CHECK_PERIOD_MS: '500', RAYTS_HEALTH_CHECK_TIMEOUT_MS: '1000',
      RAYTS_HEALTH_CHECK_FAILURE_THRESHOLD: '2', RAYTS_STATE_DISK_FULL_RETRY_MS: '200', RAYTS_STATE_DISK_FULL_LOG_INTERVAL_MS: '400',
    });
    // Only the state dir (gcs.db) is on the small disk: the head's logs are not.
    const stateDir = join(cluster.tempDir('head'), 'state');
    mkdirSync(stateDir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', stateDir]);
    try {
      const head = await cluster.startHead({ numCpus: 1 });
      const worker = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, resources: '{"w": 1}' });
      await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
      const created = await runDriver(cluster, makeUserProject(cluster), 'chaos/actor_on_worker_node.mjs', { address: head.gcsAddress });
      expect(created.code, created.stderr).toBe(0);
      const { actorId } = resultOf<{ actorId: string }>(created);

      fill(stateDir);
      killNode(worker);
      // The health checker declares the node dead; the head cannot write that and says so, again and
      // again (each line is a later try): it lives through them all.
      const headLog = join(head.sessionDir, 'logs', 'gcs_server.log');
      const notRecorded = () => lines(headLog, 'cannot record that node');
      const tried = await pollUntil(() => notRecorded().length >= 3 || !alive(head.headPid!), 90_000, 100);
      expect(alive(head.headPid!), 'the head process is alive').toBe(true);
      expect(tried, 'the head logged three times that it cannot record the node\'s death').toBe(true);
      console.log(`the head on a full state disk:\n${notRecorded()[0]}`);
      expect(notRecorded()[0]).toContain(`the head's state database ${join(stateDir, 'gcs.db')} cannot be written: its disk is full`);
      expect(notRecorded()[0]).toContain(`free space on the filesystem that holds ${stateDir}`);
      const status = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
      expect(status.code, status.stderr).toBe(0);
      expect((await cluster.statusJson(head.tempDir)).nodes.active.length, 'the death is not recorded yet').toBe(2);

      for (const f of readdirSync(stateDir).filter((n) => n.startsWith('filler'))) rmSync(join(stateDir, f));
      const after = await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 1, 60_000);
      expect(after.nodes.recentFailures.map((n) => n.nodeIp)).toContain('127.0.0.2');
      let actor: Record<string, unknown> | undefined;
      expect(await pollUntil(async () => {
        const r = await cluster.rayts(['list', 'actors', '--format=json', `--temp-dir=${head.tempDir}`]);
        actor = r.code === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>[]).find((a) => a.actor_id === actorId) : undefined;
        return actor?.state === 'DEAD';
      }, 60_000, 200), `the actor ends DEAD (maxRestarts 0); last seen: ${JSON.stringify(actor)}`).toBe(true);
      expect(lines(headLog, 'writes its state again').length).toBeGreaterThan(0);
      expect(alive(head.headPid!)).toBe(true);
    } finally {
      // Detached now, so the cleanup after the test can remove the (then empty) mount point.
      execFileSync('umount', ['-l', stateDir]);
    }
  }, 240_000);

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
