/**
 * The systemd integration: systemd/rayts-{head,worker}.service, systemd/rayts.env.example and
 * scripts/install-systemd.sh. Nothing here starts a daemon or touches the real /etc.
 *
 * `systemd-analyze verify` runs without systemd as PID 1 (it loads the unit offline). It checks the
 * syntax of every setting (an unknown value is reported as "Failed to parse ..., ignoring" with
 * exit 0, so the stderr lines naming the unit matter as much as the exit code) and that the
 * ExecStart= binary exists and is executable (exit 1 otherwise). It does not resolve User=/Group=:
 * that happens when the service is spawned, so the units verify on a host without a `rayts` user.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNITS = ['rayts-head.service', 'rayts-worker.service'] as const;
const SCRIPT = path.join(ROOT, 'scripts/install-systemd.sh');

function findOnPath(name: string, preferred: string): string | undefined {
  if (isExecutable(preferred)) return preferred;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

const SYSTEMD_ANALYZE = findOnPath('systemd-analyze', '/usr/bin/systemd-analyze');
const NO_ANALYZE = SYSTEMD_ANALYZE ? '' : ' (skipped: systemd-analyze is not installed)';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-systemd-test-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function readUnit(name: string): string {
  return fs.readFileSync(path.join(ROOT, 'systemd', name), 'utf8');
}

/** Writes `content` as `<fresh dir>/<name>` and runs `systemd-analyze verify` on it. */
function verify(name: string, content: string): { status: number | null; stderr: string; unitLines: string[] } {
  const dir = fs.mkdtempSync(path.join(tmp, 'verify-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  const r = spawnSync(SYSTEMD_ANALYZE!, ['verify', '--man=no', file], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '', LC_ALL: 'C' },
  });
  if (r.error) throw r.error;
  const unitLines = r.stderr.split('\n').filter((l) => l.includes(name));
  return { status: r.status, stderr: r.stderr, unitLines };
}

/** `Key=value` settings of one [Section] of a unit file (comments and blank lines dropped). */
function settings(unit: string, section: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    if (current !== section) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

describe('systemd units', () => {
  for (const name of UNITS) {
    it.skipIf(!SYSTEMD_ANALYZE)(`systemd-analyze verify accepts ${name}${NO_ANALYZE}`, () => {
      const r = verify(name, readUnit(name));
      expect(r.unitLines, r.stderr).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
    });

    it(`${name}: supervised foreground node, required env file, no secret on the command line`, () => {
      const text = readUnit(name);
      const unit = settings(text, 'Unit');
      const svc = settings(text, 'Service');
      const install = settings(text, 'Install');
      expect(unit.get('After')).toContain('network-online.target');
      expect(unit.get('Wants')).toContain('network-online.target');
      expect(Number(unit.get('StartLimitBurst')?.[0])).toBeGreaterThan(0);
      expect(Number(unit.get('StartLimitIntervalSec')?.[0])).toBeGreaterThan(0);
      expect(install.get('WantedBy')).toEqual(['multi-user.target']);

      expect(svc.get('Type')).toEqual(['exec']);
      expect(svc.get('Restart')).toEqual(['on-failure']);
      expect(svc.get('RestartSec')).toEqual(['5']);
      expect(svc.get('KillMode')).toEqual(['mixed']);
      expect(svc.get('TimeoutStopSec')).toEqual(['30']);
      expect(svc.get('LimitNOFILE')).toEqual(['65536']);
      expect(svc.get('User')).toEqual(['rayts']);
      expect(svc.get('Group')).toEqual(['rayts']);
      expect(svc.get('StateDirectory')).toEqual(['rayts']);
      // Required: a "-" prefix would let the node start without its configuration.
      expect(svc.get('EnvironmentFile')).toEqual(['/etc/rayts/rayts.env']);
      // journald gets the daemons' log lines, not only the supervisor's.
      expect(svc.get('Environment')).toContain('RAYTS_LOG_TO_STDERR=1');
      expect(svc.get('NoNewPrivileges')).toEqual(['yes']);
      expect(svc.get('PrivateTmp')).toEqual(['no']);
      expect(svc.has('PrivateDevices')).toBe(false); // would give the unit its own /dev/shm
      expect(svc.has('MemoryDenyWriteExecute')).toBe(false); // breaks Node's JIT

      const exec = svc.get('ExecStart') ?? [];
      expect(exec).toHaveLength(1);
      const argv = exec[0]!.split(/\s+/);
      expect(argv.slice(0, 3)).toEqual(['/usr/bin/env', 'rayts', 'start']);
      expect(argv).toContain('--block');
      expect(argv).toContain('--temp-dir=/var/lib/rayts');
      expect(argv.at(-1)).toBe('$RAYTS_START_ARGS'); // unbraced: split into arguments
      if (name === 'rayts-head.service') {
        expect(argv).toContain('--head');
        expect(argv).toContain('--port=${RAYTS_PORT}');
        expect(argv).toContain('--node-ip-address=${RAYTS_NODE_IP}');
      } else {
        expect(argv).not.toContain('--head');
        expect(argv).toContain('--address=${RAYTS_HEAD_ADDRESS}');
        expect(argv).toContain('--token-file=${RAYTS_TOKEN_FILE}');
      }
      // The token only ever travels in a file.
      expect(text).not.toMatch(/--token(=|\s)|RAYTS_TOKEN=/);
    });
  }

  it.skipIf(!SYSTEMD_ANALYZE)(`systemd-analyze verify rejects a broken unit${NO_ANALYZE}`, () => {
    const good = readUnit('rayts-head.service');

    // An invalid setting value: exit 0, but a "Failed to parse" line naming the file.
    const bogusType = good.replace(/^Type=exec$/m, 'Type=bogus');
    expect(bogusType).not.toBe(good);
    const r1 = verify('rayts-head.service', bogusType);
    expect(r1.unitLines.join('\n'), r1.stderr).toMatch(/bogus/);

    // A misspelt setting: reported as an unknown key.
    const typo = good.replace(/^Restart=on-failure$/m, 'Restrat=on-failure');
    const r2 = verify('rayts-head.service', typo);
    expect(r2.unitLines.join('\n'), r2.stderr).toMatch(/Restrat/);

    // An ExecStart binary that does not exist: a hard error.
    const missing = good.replace(/^ExecStart=\/usr\/bin\/env /m, 'ExecStart=/nonexistent/rayts-env ');
    expect(missing).not.toBe(good);
    const r3 = verify('rayts-head.service', missing);
    expect(r3.status, r3.stderr).not.toBe(0);
    expect(r3.unitLines.join('\n'), r3.stderr).toMatch(/nonexistent/);
  });

  it('rayts.env.example documents every variable the units use', () => {
    const env = fs.readFileSync(path.join(ROOT, 'systemd/rayts.env.example'), 'utf8');
    const used = new Set<string>();
    for (const name of UNITS) {
      const values = [...settings(readUnit(name), 'Service').values()].flat().join('\n');
      for (const m of values.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g)) used.add(m[1]!);
    }
    expect([...used].sort()).toEqual(['RAYTS_HEAD_ADDRESS', 'RAYTS_NODE_IP', 'RAYTS_PORT', 'RAYTS_START_ARGS', 'RAYTS_TOKEN_FILE']);
    for (const v of used) expect(env, v).toMatch(new RegExp(`^#?${v}=`, 'm'));
    for (const v of ['RAYTS_HEALTH_CHECK_PERIOD_MS', 'RAYTS_GCS_RECONNECT_TIMEOUT_S']) expect(env, v).toContain(v);
    // No real secret in the example.
    expect(env).not.toMatch(/^RAYTS_TOKEN=/m);
  });
});

describe('scripts/install-systemd.sh', () => {
  function runScript(args: string[], env: NodeJS.ProcessEnv = process.env) {
    const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000, env });
    if (r.error) throw r.error;
    return r;
  }

  /**
   * A PATH whose first directory shadows every command that could change the system with a stub
   * that only records the call and fails: a dry run that tried to run one would be caught here,
   * not by the real /etc.
   */
  function guardedEnv(): { env: NodeJS.ProcessEnv; calls: () => string[] } {
    const stubs = fs.mkdtempSync(path.join(tmp, 'stubs-'));
    const log = path.join(stubs, 'calls.log');
    fs.writeFileSync(log, '');
    for (const cmd of ['useradd', 'groupadd', 'usermod', 'install', 'systemctl', 'cp', 'mv', 'rm', 'mkdir', 'chmod', 'chown', 'ln', 'tee']) {
      fs.writeFileSync(path.join(stubs, cmd), `#!/bin/sh\necho "${cmd} $*" >> '${log}'\nexit 97\n`, { mode: 0o755 });
    }
    return {
      env: { ...process.env, PATH: `${stubs}${path.delimiter}${process.env.PATH ?? ''}` },
      calls: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean),
    };
  }

  it('passes bash -n', () => {
    const r = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('--help exits 0; a missing or unknown argument is a usage error (exit 2)', () => {
    const help = runScript(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: install-systemd\.sh head\|worker/);
    expect(runScript([]).status).toBe(2);
    expect(runScript(['bogus']).status).toBe(2);
    expect(runScript(['worker', '--prefix', 'relative/dir']).status).toBe(2);
  });

  it('--dry-run worker prints what it would do and changes nothing', () => {
    const snapshot = () =>
      ['/etc/rayts', '/etc/systemd/system/rayts-worker.service', '/usr/share/doc/rayts'].map((p) => {
        const st = fs.statSync(p, { throwIfNoEntry: false });
        return `${p} ${st ? `${st.mode} ${st.mtimeMs}` : 'absent'}`;
      });
    const before = snapshot();
    const { env, calls } = guardedEnv();
    const r = runScript(['--dry-run', 'worker'], env);
    expect(r.status, r.stderr).toBe(0);
    expect(calls()).toEqual([]);
    expect(snapshot()).toEqual(before);
    expect(r.stdout).toContain('dry run: nothing is changed');
    expect(r.stdout).toMatch(/would run: install -d -m 0750 -o root -g rayts \/etc\/rayts\n/);
    expect(r.stdout).toMatch(/would run: install -m 0644 \S+\/systemd\/rayts-worker\.service \/etc\/systemd\/system\/rayts-worker\.service\n/);
    expect(r.stdout).toMatch(/would run: install -m 0644 \S+\/systemd\/rayts\.tmpfiles\.conf \/etc\/tmpfiles\.d\/rayts\.conf\n/);
    if (spawnSync('getent', ['passwd', 'rayts']).status !== 0) {
      expect(r.stdout).toMatch(/would run: useradd --system --no-create-home .*--shell \/usr\/sbin\/nologin .*rayts\n/);
    }
    expect(r.stdout).toContain('get-auth-token --temp-dir=/var/lib/rayts');
    expect(r.stdout).toContain('systemctl enable --now rayts-worker');
    expect(r.stdout).not.toContain('running:');
  });

  it('--dry-run --prefix DIR leaves DIR empty', () => {
    const prefix = fs.mkdtempSync(path.join(tmp, 'prefix-dry-'));
    const { env, calls } = guardedEnv();
    const r = runScript(['--dry-run', 'head', '--prefix', prefix], env);
    expect(r.status, r.stderr).toBe(0);
    expect(calls()).toEqual([]);
    expect(fs.readdirSync(prefix)).toEqual([]);
    expect(r.stdout).toContain(`would run: install -m 0644 ${path.join(ROOT, 'systemd/rayts-head.service')} ${prefix}/etc/systemd/system/rayts-head.service`);
    expect(r.stdout).toContain('systemctl enable --now rayts-head');
  });

  it('installs into --prefix DIR and keeps an edited env file on a second run', () => {
    const prefix = fs.mkdtempSync(path.join(tmp, 'prefix-'));
    const r = runScript(['worker', '--prefix', prefix]);
    expect(r.status, r.stderr).toBe(0);
    const mode = (p: string) => (fs.statSync(path.join(prefix, p)).mode & 0o777).toString(8);
    expect(mode('etc/rayts')).toBe('750');
    expect(mode('etc/rayts/rayts.env')).toBe('640');
    expect(mode('etc/systemd/system/rayts-worker.service')).toBe('644');
    expect(fs.readFileSync(path.join(prefix, 'etc/systemd/system/rayts-worker.service'), 'utf8')).toBe(readUnit('rayts-worker.service'));
    expect(fs.readFileSync(path.join(prefix, 'etc/rayts/rayts.env'), 'utf8'))
      .toBe(fs.readFileSync(path.join(ROOT, 'systemd/rayts.env.example'), 'utf8'));
    expect(fs.existsSync(path.join(prefix, 'etc/systemd/system/rayts-head.service'))).toBe(false);

    fs.writeFileSync(path.join(prefix, 'etc/rayts/rayts.env'), 'RAYTS_NODE_IP=10.0.0.2\n');
    const again = runScript(['head', `--prefix=${prefix}/`]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('keeping the existing');
    expect(fs.readFileSync(path.join(prefix, 'etc/rayts/rayts.env'), 'utf8')).toBe('RAYTS_NODE_IP=10.0.0.2\n');
    expect(fs.existsSync(path.join(prefix, 'etc/systemd/system/rayts-head.service'))).toBe(true);
  });
});
