/**
 * Bad input to the jobs API and CLI gets a clear error and changes nothing: an unknown job id, an
 * empty entrypoint, a working_dir that is not a directory, a package over the head's limit, archives
 * with `../` paths, absolute paths, links pointing outside, and malformed runtime envs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { TestCluster, type StartedNode } from '../helpers/cluster.js';
import { api } from '../helpers/jobs.js';
import { tarGz, type TarEntry } from '../helpers/tar.js';

const LIMIT = 64 * 1024;

let cluster: TestCluster;
let head: StartedNode;
const job = (command: string, ...args: string[]) => cluster.rayts(['job', command, `--address=${head.dashboardUrl}`, ...args]);
const packagesDir = () => join(head.tempDir, 'state', 'packages');
const storedPackages = () => (existsSync(packagesDir()) ? readdirSync(packagesDir()).filter((f) => f.endsWith('.tar.gz')) : []);

function put(bytes: Buffer, sha256: string) {
  return api(head, `/api/packages/gcs/_rayts_pkg_${sha256}.tar.gz`, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
}

beforeAll(async () => {
  cluster = new TestCluster({ RAYTS_JOB_PACKAGE_MAX_BYTES: String(LIMIT) });
  head = await cluster.startHead({ numCpus: 1 });
}, 60_000);

afterAll(async () => {
  await cluster?.cleanup();
}, 60_000);

describe('jobs: bad input', () => {
  it('an unknown job id is a 404 and a one-line CLI error (exit 1)', async () => {
    expect((await api(head, '/api/jobs/raysubmit_nope')).status).toBe(404);
    for (const cmd of ['status', 'logs', 'stop', 'delete']) {
      const r = await job(cmd, 'raysubmit_nope');
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/raysubmit_nope.*not found/);
      expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('Job submission server address')).length, r.stderr).toBeLessThanOrEqual(2);
    }
  });

  it('an empty entrypoint is a usage error (exit 2) and a 400 naming the field', async () => {
    const r = await job('submit', '--');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/entrypoint/);
    for (const body of [{}, { entrypoint: '' }, { entrypoint: '   ' }, { entrypoint: 42 }]) {
      const a = await api(head, '/api/jobs/', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      expect(a.status, JSON.stringify(body)).toBe(400);
      expect(a.text).toMatch(/entrypoint/);
    }
  });

  it('a working_dir that is not a directory is refused before anything is sent', async () => {
    writeFileSync(join(cluster.root, 'file.txt'), 'not a dir');
    for (const dir of ['./file.txt', './missing-dir']) {
      const r = await job('submit', '--working-dir', dir, '--', 'node', 'main.js');
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/working_dir|working-dir/);
      expect(r.stderr).toContain(dir.slice(2));
    }
    expect(storedPackages()).toEqual([]);
  });

  it('a package over the limit is refused with 413 naming the limit; the CLI names the biggest folders', async () => {
    const big = Buffer.alloc(LIMIT * 2);
    randomFillSync(big);
    const { bytes, sha256 } = tarGz([{ name: 'big.bin', body: big }]);
    const r = await put(bytes, sha256);
    expect(r.status, r.text).toBe(413);
    expect(r.text).toMatch(/65536|64 KiB/);
    expect(storedPackages()).toEqual([]);

    const app = join(cluster.root, 'bigapp');
    mkdirSync(join(app, 'data'), { recursive: true });
    writeFileSync(join(app, 'main.js'), 'console.log(1)');
    writeFileSync(join(app, 'data', 'blob.bin'), big);
    const cli = await job('submit', '--working-dir', './bigapp', '--', 'node', 'main.js');
    expect(cli.code, cli.stderr).not.toBe(0);
    expect(cli.stderr).toMatch(/64(\.00)? ?KiB|65536/);
    expect(cli.stderr).toContain('data');
    expect(storedPackages()).toEqual([]);
  });

  it('archives with ../ paths, absolute paths, links pointing outside or hard links are rejected and write nothing outside', async () => {
    const hostile: [string, TarEntry[]][] = [
      ['a ../ path', [{ name: '../evil-dotdot.txt', body: 'x' }]],
      ['a nested ../ path', [{ name: 'a/../../evil-nested.txt', body: 'x' }]],
      ['an absolute path', [{ name: join(cluster.root, 'evil-absolute.txt'), body: 'x' }]],
      ['a symlink outside, then a file through it', [{ name: 'link', type: '2', linkname: cluster.root }, { name: 'link/evil-through-link.txt', body: 'x' }]],
      ['an absolute symlink', [{ name: 'abs', type: '2', linkname: '/etc/passwd' }]],
      ['a hard link', [{ name: 'hard', type: '1', linkname: '/etc/passwd' }]],
    ];
    for (const [what, entries] of hostile) {
      const { bytes, sha256 } = tarGz(entries);
      const r = await put(bytes, sha256);
      expect(r.status, `${what}: ${r.text}`).toBe(400);
    }
    expect(storedPackages()).toEqual([]);
    const leaked = readdirSync(cluster.root, { recursive: true }).map(String).filter((f) => /evil-/.test(f));
    expect(leaked).toEqual([]);
    // A package whose bytes do not match its name is refused too.
    const good = tarGz([{ name: 'main.js', body: 'console.log(1)' }]);
    const mismatch = await put(good.bytes, '0'.repeat(64));
    expect(mismatch.status, mismatch.text).toBe(400);
    expect(mismatch.text).toMatch(/sha256|digest/i);
  });

  it('a malformed runtime env is a 400 naming the field, and a usage error in the CLI', async () => {
    const cases: [unknown, RegExp][] = [
      [{ env_vars: { A: 1 } }, /env_vars\.A/],
      [{ env_vars: ['A=1'] }, /env_vars/],
      [{ pip: ['requests'] }, /pip/],
      [{ working_dir: '/tmp/not-a-package' }, /working_dir/],
      [{ working_dir: `gcs://_rayts_pkg_${'a'.repeat(64)}.tar.gz` }, /working_dir.*not on the head/],
      [{ npm: 'yes' }, /npm/],
      ['a string', /runtime_env/],
    ];
    for (const [runtimeEnv, message] of cases) {
      const a = await api(head, '/api/jobs/', { method: 'POST', body: JSON.stringify({ entrypoint: 'true', runtime_env: runtimeEnv }), headers: { 'content-type': 'application/json' } });
      expect(a.status, `${JSON.stringify(runtimeEnv)}: ${a.text}`).toBe(400);
      expect(a.text).toMatch(message);
    }
    const bad = await job('submit', '--runtime-env-json', '{"env_vars": {', '--', 'true');
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/runtime-env-json/);
    const list = await api(head, '/api/jobs/');
    expect(list.json, 'nothing was submitted').toEqual([]);
  });
});
