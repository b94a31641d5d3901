/**
 * `rayts doctor` against a real two-node cluster (127.0.0.1 head, 127.0.0.2 worker): healthy it
 * passes; with the head's token file readable by others, the worker's raylet port blocked by an
 * iptables REJECT rule and the worker's object store larger than its shared-memory dir (a 64 MiB
 * tmpfs given with RAYTS_OBJECT_STORE_SHM_DIR, so the store falls back to disk) it fails each with
 * the fix and exits 1.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonFile, useCluster } from '../helpers/cluster.js';

const newCluster = useCluster();

interface Finding { check: string; scope: string; status: 'ok' | 'warn' | 'fail' | 'skip'; finding: string; fix: string }
interface DoctorJson { address: string; summary: Record<string, number>; checks: Finding[] }

function find(report: DoctorJson, check: string, scope: string): Finding {
  const f = report.checks.find((c) => c.check === check && c.scope === scope);
  if (!f) throw new Error(`no '${check}' finding for ${scope} in ${JSON.stringify(report.checks, null, 1)}`);
  return f;
}

describe('rayts doctor', () => {
  it('exits 3 like status when no cluster runs, 2 on a malformed address', async () => {
    const cluster = newCluster();
    const none = await cluster.rayts(['doctor']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no rayts cluster is running on this host');
    const bad = await cluster.rayts(['doctor', '--address=nonsense']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--address must look like HOST:PORT");
  });

  it('passes on a healthy two-node cluster, in text and JSON', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1 });

    const run = await cluster.rayts(['doctor', `--address=${head.gcsAddress}`, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as DoctorJson;
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(report.summary.fail).toBe(0);
    for (const check of ['rayts version', 'Node.js version']) expect(find(report, check, 'cluster').status).toBe('ok');
    expect(find(report, 'head (GCS) port', 'head').status).toBe('ok');
    for (const scope of ['node 127.0.0.1 (head)', 'node 127.0.0.2']) {
      for (const check of ['raylet port', 'last report', 'shared memory', 'token file', 'spill disk']) {
        expect(find(report, check, scope).status, `${check} of ${scope}`).toBe('ok');
      }
    }
    expect(find(report, 'clock skew', 'this host').status).toBe('ok');
    // Read from the running raylet (this machine allows 20000: a warning below the 65536 Ray recommends, not a failure).
    expect(find(report, 'open files', 'node 127.0.0.2').finding).toMatch(/^the raylet: ulimit -n is \d+/);
    // systemd is not PID 1 here and no unit is installed: skipped, not failed.
    expect(find(report, 'systemd unit', 'this host').status).toBe('skip');

    const text = await cluster.rayts(['doctor', `--address=${head.gcsAddress}`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`rayts doctor: cluster at ${head.gcsAddress}`);
    expect(text.stdout).toMatch(/^OK +raylet port +node 127\.0\.0\.2 +127\.0\.0\.2:\d+ accepts connections$/m);
    expect(text.stdout).toMatch(/\d+ ok, \d+ warnings, 0 failed, \d+ skipped/);
  });

  it('fails a readable token file, a blocked raylet port and a too-small shared-memory dir, with the fixes, exit 1', async () => {
    const cluster = newCluster();
    const shm = cluster.tempDir('small-shm');
    mkdirSync(shm, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', shm]);
    const rule = (port: number) => ['INPUT', '-p', 'tcp', '-d', '127.0.0.2', '--dport', String(port), '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    let blocked: number | undefined;
    try {
      const head = await cluster.startHead({ numCpus: 1 });
      // The worker's 100 MiB store does not fit the 64 MiB tmpfs: the raylet falls back to disk.
      const worker = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, env: { RAYTS_OBJECT_STORE_SHM_DIR: shm } });
      const token = join(head.sessionDir, 'token');
      chmodSync(token, 0o644);
      const rayletPort = readJsonFile<{ port: number }>(join(worker.sessionDir, 'raylet.json')).port;
      execFileSync('iptables', ['-I', ...rule(rayletPort)]);
      blocked = rayletPort;

      const run = await cluster.rayts(['doctor', `--address=${head.gcsAddress}`, '--json']);
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as DoctorJson;

      const tokenFinding = find(report, 'token file', 'node 127.0.0.1 (head)');
      expect(tokenFinding.status).toBe('fail');
      expect(tokenFinding.finding).toContain('mode 0644');
      expect(tokenFinding.fix).toBe(`chmod 600 ${token}`);

      const port = find(report, 'raylet port', 'node 127.0.0.2');
      expect(port.status).toBe('fail');
      expect(port.finding).toContain(`127.0.0.2:${rayletPort} is not reachable from this host (ECONNREFUSED)`);
      expect(port.fix).toContain(`allow TCP to 127.0.0.2:${rayletPort}`);
      // The head's own raylet stays reachable.
      expect(find(report, 'raylet port', 'node 127.0.0.1 (head)').status).toBe('ok');

      const small = find(report, 'shared memory', 'node 127.0.0.2');
      expect(small.status).toBe('fail');
      expect(small.finding).toContain(`${shm} holds 64.00MiB, the object store is 100.00MiB`);
      expect(small.fix).toContain(`make ${shm} bigger`);
      expect(find(report, 'shared memory', 'node 127.0.0.1 (head)').status).toBe('ok');

      const text = await cluster.rayts(['doctor', `--address=${head.gcsAddress}`]);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^FAIL +token file +node 127\.0\.0\.1 \(head\) .*mode 0644.*\n +fix: chmod 600 /m);
      expect(text.stdout).toMatch(/^FAIL +raylet port +node 127\.0\.0\.2 /m);
      expect(text.stdout).toMatch(/^FAIL +shared memory +node 127\.0\.0\.2 /m);
    } finally {
      if (blocked !== undefined) execFileSync('iptables', ['-D', ...rule(blocked)]);
      execFileSync('umount', ['-l', shm]);
    }
  });
});
