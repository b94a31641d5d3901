import { describe, expect, it } from 'vitest';
import { CHECKS, runChecks } from './index.js';
import { healthyFacts, localNode } from '../doctor.test_helper.js';
import { versionsCheck } from './versions.js';
import { clockSkewCheck } from './clock_skew.js';
import { portsCheck } from './ports.js';
import { lastSeenCheck } from './last_seen.js';
import { shmCheck } from './shm.js';
import { hugePagesCheck } from './huge_pages.js';
import { openFilesCheck } from './open_files.js';
import { spillDiskCheck } from './spill_disk.js';
import { tokenFileCheck } from './token_file.js';
import { systemdCheck } from './systemd.js';

const GiB = 2 ** 30;

describe('doctor checks', () => {
  it('a healthy cluster has no warning or failure (systemd not installed is skipped)', () => {
    const findings = runChecks(healthyFacts());
    expect(findings.filter((f) => f.status === 'warn' || f.status === 'fail')).toEqual([]);
    expect(findings.filter((f) => f.status === 'skip').map((f) => f.check)).toEqual(['systemd unit']);
    expect(findings.every((f) => f.status !== 'ok' || f.fix === '')).toBe(true);
    expect(new Set(CHECKS.map((c) => c.name)).size).toBe(CHECKS.length);
  });

  it('versions: a different rayts fails; a different Node.js minor warns, major fails', () => {
    const f = healthyFacts();
    f.nodes[1] = { ...f.nodes[1]!, version: '0.2.0' };
    const [rayts] = versionsCheck.run(f);
    expect(rayts).toMatchObject({ status: 'fail', finding: 'rayts versions differ: 0.1.0 on 10.0.0.1, this CLI; 0.2.0 on 10.0.0.2' });
    expect(rayts!.fix).toContain('same rayts version');
    const minor = healthyFacts();
    minor.nodes[1] = { ...minor.nodes[1]!, nodeVersion: '20.12.1' };
    expect(versionsCheck.run(minor)[1]!.status).toBe('warn');
    const major = healthyFacts();
    major.nodes[1] = { ...major.nodes[1]!, nodeVersion: '22.1.0' };
    expect(versionsCheck.run(major)[1]).toMatchObject({ status: 'fail', finding: expect.stringContaining('22.1.0 on 10.0.0.2') });
  });

  it('clock skew: judged beyond half the round trip, warn then fail', () => {
    const at = (skew: number, rtt = 10) => clockSkewCheck.run(healthyFacts({ clock: { sentMs: 0, receivedMs: rtt, headNowMs: rtt / 2 + skew } }))[0]!;
    expect(at(300).status).toBe('ok');
    expect(at(900, 1000).status).toBe('ok'); // within the round trip's uncertainty
    expect(at(-2000)).toMatchObject({ status: 'warn', finding: expect.stringContaining('2000 ms ahead of the head') });
    expect(at(20_000)).toMatchObject({ status: 'fail', fix: expect.stringContaining('chrony') });
  });

  it('ports: a refused raylet port fails with the firewall fix', () => {
    const f = healthyFacts();
    f.probes[2] = { ...f.probes[2]!, open: false, error: 'ECONNREFUSED' };
    const findings = portsCheck.run(f);
    expect(findings.map((x) => x.status)).toEqual(['ok', 'ok', 'fail']);
    expect(findings[2]).toMatchObject({ check: 'raylet port', scope: 'node 10.0.0.2', finding: '10.0.0.2:40002 is not reachable from this host (ECONNREFUSED)' });
    expect(findings[2]!.fix).toContain('--node-manager-port');
  });

  it('last report: warns after three periods, fails after the health-check threshold', () => {
    const f = healthyFacts();
    f.nodes[0] = { ...f.nodes[0]!, lastSeenAgoMs: 10_000 };
    f.nodes[1] = { ...f.nodes[1]!, lastSeenAgoMs: 60_000 };
    expect(lastSeenCheck.run(f).map((x) => x.status)).toEqual(['warn', 'fail']);
  });

  it('shared memory: too small, a fallback and a missing dir fail; no local node is skipped', () => {
    const small = shmCheck.run(healthyFacts({ localNodes: [localNode({ shm: { totalBytes: GiB, freeBytes: GiB } })] }))[0]!;
    expect(small).toMatchObject({ status: 'fail', finding: 'too small: /dev/shm holds 1.00GiB, the object store is 2.00GiB' });
    expect(small.fix).toContain('mount -o remount,size=2253m /dev/shm');
    expect(shmCheck.run(healthyFacts({ localNodes: [localNode({ arenaDir: '/tmp' })] }))[0]).toMatchObject({ status: 'fail', finding: expect.stringContaining('fell back to /tmp') });
    expect(shmCheck.run(healthyFacts({ localNodes: [localNode({ shm: undefined })] }))[0]!.status).toBe('fail');
    expect(shmCheck.run(healthyFacts({ localNodes: [] }))[0]!.status).toBe('skip');
  });

  it('huge pages: a large reservation warns', () => {
    const memInfo = { memTotalBytes: 32 * GiB, hugePagesTotal: 4096, hugePageSizeBytes: 2 * 2 ** 20 };
    expect(hugePagesCheck.run(healthyFacts({ memInfo }))[0]).toMatchObject({ status: 'warn', fix: expect.stringContaining('vm.nr_hugepages') });
    expect(hugePagesCheck.run(healthyFacts({ memInfo: { ...memInfo, hugePagesTotal: 16 } }))[0]!.status).toBe('ok');
  });

  it('open files: each local raylet\'s limit (this shell\'s without one); below the tunable warns, below 1024 fails', () => {
    const at = (soft: number) => openFilesCheck.run(healthyFacts({ localNodes: [localNode({ openFiles: { soft, hard: soft } })] }))[0]!;
    expect(at(4096)).toMatchObject({ status: 'warn', scope: 'node 10.0.0.1 (head)', finding: 'the raylet: ulimit -n is 4096 (hard 4096), below 65536' });
    expect(at(4096).fix).toContain('LimitNOFILE');
    expect(at(256).status).toBe('fail');
    expect(at(Infinity).status).toBe('ok');
    expect(openFilesCheck.run(healthyFacts({ localNodes: [localNode({ openFiles: undefined })] }))[0]!.status).toBe('skip');
    const remote = openFilesCheck.run(healthyFacts({ localNodes: [], openFiles: { soft: 512, hard: 512 } }))[0]!;
    expect(remote).toMatchObject({ status: 'fail', scope: 'this host', finding: expect.stringContaining('this shell') });
  });

  it('spill disk: less than the store warns, less than the minimum fails', () => {
    const at = (free: number) => spillDiskCheck.run(healthyFacts({ localNodes: [localNode({ spill: { totalBytes: 100 * GiB, freeBytes: free } })] }))[0]!;
    expect(at(1.5 * GiB).status).toBe('warn');
    expect(at(0.5 * GiB)).toMatchObject({ status: 'fail', fix: expect.stringContaining('--object-spilling-directory') });
  });

  it('token file: a group- or world-readable mode and a foreign owner fail', () => {
    const token = { path: '/s/token', mode: 0o644, uid: 1000, expectedUid: 1000 };
    expect(tokenFileCheck.run(healthyFacts({ localNodes: [localNode({ token })] }))[0]).toMatchObject({ status: 'fail', finding: expect.stringContaining('mode 0644'), fix: 'chmod 600 /s/token' });
    expect(tokenFileCheck.run(healthyFacts({ localNodes: [localNode({ token: { ...token, mode: 0o600, uid: 0 } })] }))[0]).toMatchObject({ status: 'fail', fix: 'chown 1000 /s/token' });
    expect(tokenFileCheck.run(healthyFacts({ localNodes: [localNode({ token: undefined })] }))[0]!.status).toBe('fail');
  });

  it('systemd: installed without systemd is skipped; an inactive unit warns', () => {
    const unit = { name: 'rayts-head.service', path: '/etc/systemd/system/rayts-head.service' };
    expect(systemdCheck.run(healthyFacts({ systemd: { running: false, units: [unit] } }))[0]).toMatchObject({ status: 'skip', finding: expect.stringContaining('systemd does not run here') });
    expect(systemdCheck.run(healthyFacts({ systemd: { running: true, units: [{ ...unit, activeState: 'active' }] } }))[0]!.status).toBe('ok');
    expect(systemdCheck.run(healthyFacts({ systemd: { running: true, units: [{ ...unit, activeState: 'failed' }] } }))[0]).toMatchObject({ status: 'warn', fix: expect.stringContaining('journalctl -u rayts-head.service') });
  });
});
