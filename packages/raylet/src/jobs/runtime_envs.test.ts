/**
 * RuntimeEnvs against a real PackageService in this process, real archives packed from project
 * directories, real npm: one download and unpack per package, shared packages removed after their
 * last holder, one `npm ci` per lock file, npm's failures, and each job's env looked up once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pollUntil, runtimeEnvToJson } from '@rayts/common';
import { RuntimeEnvSetupError } from '../errors.js';
import { NO_ENV, type PreparedEnv } from './runtime_envs.js';
import { projectWithLocalDependency, startJobsHarness, type JobsHarness } from './jobs.test_helper.js';

let h: JobsHarness;
beforeEach(async () => { h = await startJobsHarness(); });
afterEach(async () => { await h.close(); });

/** Runs node in `dir` (as a worker of the job would resolve its imports) and returns what it printed. */
function nodeIn(dir: string, code: string, type: 'commonjs' | 'module'): string {
  const run = spawnSync(process.execPath, ['--input-type', type, '-e', code], { cwd: dir, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`node failed in ${dir}: ${run.stderr}`);
  return run.stdout.trim();
}

describe('RuntimeEnvs.prepare', () => {
  it('downloads and unpacks a package once, for concurrent and later callers, and keeps the env vars per caller', async () => {
    const uri = await h.upload(h.project({ 'main.mjs': 'console.log(1)\n', 'data/info.txt': 'v1' }));
    const envs = h.envs();
    const [a, b] = await Promise.all([
      envs.prepare('job-a', { working_dir: uri, env_vars: { WHO: 'a' } }),
      envs.prepare('job-b', { working_dir: uri }),
    ]);
    expect(a.dir).toBe(join(h.paths.dir, 'runtime_resources', 'working_dir', uri.match(/[0-9a-f]{64}/)![0]));
    expect(b.dir).toBe(a.dir);
    expect(a.envVars).toEqual({ WHO: 'a' });
    expect(b.envVars).toEqual({});
    expect(readFileSync(join(a.dir!, 'data', 'info.txt'), 'utf8')).toBe('v1');
    expect(h.downloads.count).toBe(1);
    // A third caller gets the same directory as it is (not unpacked again over what is there).
    writeFileSync(join(a.dir!, 'marker'), 'kept');
    const c = await envs.prepare('job-c', { working_dir: uri });
    expect(c.dir).toBe(a.dir);
    expect(readFileSync(join(c.dir!, 'marker'), 'utf8')).toBe('kept');
    expect(h.downloads.count).toBe(1);
    expect(readdirSync(join(h.paths.dir, 'runtime_resources', 'packages'))).toEqual([uri.slice('gcs://'.length)]);
  });

  it('removes a package (directory and archive) once every job holding it released it', async () => {
    const shared = await h.upload(h.project({ 'a.txt': 'shared' }));
    const other = await h.upload(h.project({ 'b.txt': 'other' }));
    const envs = h.envs();
    const s1 = await envs.prepare('job-1', { working_dir: shared });
    await envs.prepare('job-2', { working_dir: shared });
    const o = await envs.prepare('job-3', { working_dir: other });
    const archive = join(h.paths.dir, 'runtime_resources', 'packages', shared.slice('gcs://'.length));
    envs.release('job-1');
    // job-2 still holds it: nothing was scheduled for removal.
    await new Promise((r) => setImmediate(r));
    expect(existsSync(s1.dir!)).toBe(true);
    envs.release('job-2');
    expect(await pollUntil(() => !existsSync(s1.dir!) && !existsSync(archive), 5000, 20)).toBe(true);
    expect(existsSync(o.dir!)).toBe(true);
    // Needed again later: downloaded anew.
    const again = await envs.prepare('job-4', { working_dir: shared });
    expect(readFileSync(join(again.dir!, 'a.txt'), 'utf8')).toBe('shared');
    expect(h.downloads.count).toBe(3);
  });

  it('runs npm ci once per lock file: a second package with the same lock copies node_modules, and both resolve the dependency', async () => {
    const first = await h.upload(h.project(projectWithLocalDependency({ 'main.mjs': 'export const v = 1;\n' })));
    const second = await h.upload(h.project(projectWithLocalDependency({ 'main.mjs': 'export const v = 2;\n' })));
    expect(second).not.toBe(first);
    const envs = h.envs();
    const lines: string[] = [];
    const a = await envs.prepare('job-a', { working_dir: first }, (l) => lines.push(l));
    expect(h.npm.runs).toBe(1);
    expect(lines.some((l) => /added 1 package/.test(l))).toBe(true);
    const b = await envs.prepare('job-b', { working_dir: second }, (l) => lines.push(l));
    expect(h.npm.runs).toBe(1);
    expect(lines.some((l) => /copied from .* npm ci not run again/.test(l))).toBe(true);
    for (const env of [a, b]) {
      expect(nodeIn(env.dir!, "console.log(require('greeter').greet('cjs'))", 'commonjs')).toBe('hello cjs');
      expect(nodeIn(env.dir!, "const { default: g } = await import('greeter'); console.log(g.greet('esm'))", 'module')).toBe('hello esm');
    }
    // npm: false leaves node_modules out.
    const third = await h.upload(h.project(projectWithLocalDependency({ 'main.mjs': 'export const v = 3;\n' })));
    const c = await envs.prepare('job-c', { working_dir: third, npm: false });
    // npm: false installs nothing; only the link to this node's rayts is there.
    expect(readdirSync(join(c.dir!, 'node_modules'))).toEqual(['rayts']);
    expect(h.npm.runs).toBe(1);
  });

  it('rejects with npm\'s exit code and its message when npm ci fails, and keeps nothing of it', async () => {
    // package.json needs a dependency the lock file does not list: npm ci refuses.
    const files = projectWithLocalDependency();
    files['package-lock.json'] = JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'app', version: '1.0.0' } } });
    const uri = await h.upload(h.project(files));
    const envs = h.envs();
    const err = await envs.prepare('job-x', { working_dir: uri }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeEnvSetupError);
    const setup = err as RuntimeEnvSetupError;
    expect(setup.npmExitCode).not.toBe(0);
    expect(setup.message).toMatch(/npm ci failed/);
    expect(setup.message).toMatch(/package\.json and package-lock\.json .*in sync/);
    expect(setup.npmOutput).toMatch(/Missing: greeter/);
    const dir = join(h.paths.dir, 'runtime_resources', 'working_dir', uri.match(/[0-9a-f]{64}/)![0]);
    expect(await pollUntil(() => !existsSync(dir), 5000, 20)).toBe(true);
    expect(envs.heldJobIds()).toEqual([]);
  });

  it('fails clearly for a package the head does not have, and when the setup takes longer than its bound', async () => {
    const envs = h.envs();
    const missing = `gcs://_rayts_pkg_${'0'.repeat(64)}.tar.gz`;
    await expect(envs.prepare('job-m', { working_dir: missing })).rejects.toThrow(RuntimeEnvSetupError);
    const uri = await h.upload(h.project(projectWithLocalDependency()));
    const hurried = h.envs({ setupTimeoutMs: 1 });
    await expect(hurried.prepare('job-t', { working_dir: uri })).rejects.toThrow(/took longer than 1 ms/);
  });
});

describe('RuntimeEnvs.forJob', () => {
  it('knows the job of a driver on this node from its hello: no lookup for a job without a runtime env', async () => {
    const lookups: string[] = [];
    const envs = h.envs({ lookup: async (jobId) => { lookups.push(jobId); return { found: true, runtimeEnvJson: '', finished: false }; } });
    envs.prime('driven', '');
    expect(envs.forJob('driven')).toBe(NO_ENV);
    envs.prime('garbled', '{not json');
    expect(await envs.forJob('garbled')).toBe(NO_ENV);
    expect(lookups).toEqual(['garbled']);
  });

  it('looks each job up once: no runtime env costs nothing per task, a working_dir is prepared and held until release', async () => {
    const uri = await h.upload(h.project({ 'x.txt': 'x' }));
    const records: Record<string, string> = {
      plain: '',
      vars: runtimeEnvToJson({ env_vars: { A: '1' } }),
      dir: runtimeEnvToJson({ working_dir: uri, env_vars: { B: '2' } }),
    };
    const lookups: string[] = [];
    const envs = h.envs({
      lookup: async (jobId) => {
        lookups.push(jobId);
        return { found: jobId in records, runtimeEnvJson: records[jobId] ?? '', finished: false };
      },
    });
    const first = envs.forJob('plain');
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe(NO_ENV);
    expect(envs.forJob('plain')).toBe(NO_ENV); // synchronous from now on
    expect(await envs.forJob('unknown')).toBe(NO_ENV);
    expect(await envs.forJob('vars')).toEqual({ envVars: { A: '1' } });
    // Concurrent callers share one lookup and one preparation.
    const [d1, d2] = await Promise.all([envs.forJob('dir'), envs.forJob('dir')]);
    expect(d1).toBe(d2);
    const dir = (envs.forJob('dir') as PreparedEnv).dir!;
    expect(readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('x');
    expect(lookups.sort()).toEqual(['dir', 'plain', 'unknown', 'vars']);
    expect(envs.heldJobIds().sort()).toEqual(['dir', 'vars']);
    envs.release('dir');
    expect(await pollUntil(() => !existsSync(dir), 5000, 20)).toBe(true);
    expect(envs.heldJobIds()).toEqual(['vars']);
  });

  it('refuses the env of a job that has finished, and says so', async () => {
    const envs = h.envs({ lookup: async () => ({ found: true, runtimeEnvJson: runtimeEnvToJson({ env_vars: { A: '1' } }), finished: true }) });
    await expect(envs.forJob('done')).rejects.toThrow(/job done has finished/);
    expect(envs.heldJobIds()).toEqual([]);
  });
});
