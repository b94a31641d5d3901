/**
 * rayts as a user installs it: `npm run pack` makes the tarball, which is installed with
 * `npm install --offline` (with an empty npm cache) into an empty project whose PATH holds node, npm, npx and sh only — no
 * C compiler, no make, no python — so both native parts (the object store's addon and SQLite's
 * binding) must load prebuilt. From that project: `npx rayts start --head`, a TypeScript driver
 * compiled with tsc against the installed types (and a file with wrong types that tsc must
 * reject), `npx rayts status` and `npx rayts stop`.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { http } from '../helpers/http.js';
import { ROOT, alive, collect, readJsonFile, useCluster, type RunResult, type TestCluster } from '../helpers/cluster.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'install');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const BUILD_TOOLS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'make', 'python3', 'python'];

const newCluster = useCluster();

/** The cluster's environment minus npm's own variables (`npm test` sets npm_config_prefix and
 * friends, which would point a nested npm at this repository), with PATH = `pathDir` only. */
function userEnv(c: TestCluster, pathDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...c.env, PATH: pathDir, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') && !['npm_config_update_notifier', 'npm_config_fund', 'npm_config_audit'].includes(key)) delete env[key];
  delete env.INIT_CWD;
  return env;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 240_000): Promise<RunResult> {
  return collect(spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
}

/** A bin directory with node, npm, npx and sh: what a node without build tools has. */
function userBin(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const real = (name: string) => join(process.env.PATH!.split(':').find((d) => existsSync(join(d, name)))!, name);
  for (const name of ['node', 'npm', 'npx']) symlinkSync(real(name), join(dir, name));
  symlinkSync('/bin/sh', join(dir, 'sh'));
  return dir;
}

describe('rayts as an installed package', () => {
  it('installs from its tarball with no compiler and runs a cluster and a tsc-compiled driver', async () => {
    const c = newCluster();
    const work = c.tempDir('install');
    const project = join(work, 'project');
    mkdirSync(project, { recursive: true });
    const bin = userBin(join(work, 'bin'));
    // An empty npm cache as well: everything the install needs is in the tarball.
    const env = { ...userEnv(c, bin), npm_config_cache: join(work, 'npm-cache') };

    const which = await run('/bin/sh', ['-c', BUILD_TOOLS.map((t) => `command -v ${t}`).join('; ') + '; true'], work, env);
    expect(which.stdout.trim(), 'the PATH of this test must hold no build tool').toBe('');

    // A plain `npm pack` is refused with what to run instead (its tarball would need a compiler to install).
    const plain = await run('npm', ['pack', '--dry-run'], ROOT, userEnv(c, process.env.PATH!));
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain('build the installable package with `npm run pack`');
    const pack = await run(process.execPath, [join(ROOT, 'scripts', 'pack.mjs'), '--out', work], ROOT, userEnv(c, process.env.PATH!));
    expect(pack.code, pack.stderr).toBe(0);
    const tarball = pack.stdout.trim().split('\n').at(-1)!;
    expect(tarball).toBe(join(work, 'rayts-0.1.0.tgz'));

    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-driver', version: '1.0.0', private: true, type: 'module' }, null, 2));
    const install = await run(join(bin, 'npm'), ['install', '--offline', tarball], project, env);
    expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
    const installed = join(project, 'node_modules', 'rayts', 'node_modules');
    // Nothing was compiled: what loads is what the tarball carries.
    expect(existsSync(join(installed, 'better-sqlite3', 'build'))).toBe(false);
    expect(existsSync(join(installed, '@rayts', 'object-store', 'native', 'build'))).toBe(false);
    expect(existsSync(join(installed, '@rayts', 'object-store', 'native', 'prebuilds', `linux-${process.arch}`))).toBe(true);

    const tempDir = join(work, 'cluster');
    const start = await run(join(bin, 'npx'), ['rayts', 'start', '--head', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1',
      `--temp-dir=${tempDir}`, '--num-cpus=2', '--object-store-memory=100MiB'], project, env);
    expect(start.code, `${start.stdout}\n${start.stderr}`).toBe(0);
    expect(start.stdout).toContain('Rayts runtime started.');
    const head = readJsonFile<{ pid: number; address: string; dashboardUrl: string }>(join(tempDir, 'session_latest', 'head.json'));
    // The dashboard's web page is part of the package too.
    const page = await http(head.dashboardUrl, '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<script');

    for (const file of ['main.ts', 'wrong_types.ts', 'tsconfig.json', 'tsconfig.wrong.json']) copyFileSync(join(FIXTURES, file), join(project, file));
    const compile = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], project, env);
    expect(compile.code, `tsc failed against the installed types:\n${compile.stdout}\n${compile.stderr}`).toBe(0);
    const wrong = await run(process.execPath, [TSC, '-p', 'tsconfig.wrong.json'], project, env);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toContain("TS2345: Argument of type 'string' is not assignable to parameter of type 'number | ObjectRef<number>'");
    expect(wrong.stdout).toContain("TS2322: Type 'ObjectRef<number>' is not assignable to type 'ObjectRef<string>'");

    const driver = await run(process.execPath, [join(project, 'dist', 'main.js')], project, env, 120_000);
    expect(driver.code, `${driver.stdout}\n${driver.stderr}`).toBe(0);
    expect(driver.stderr).toContain(`Connecting to existing rayts cluster at ${head.address}`);
    const result = JSON.parse(driver.stdout.split('\n').find((l) => l.startsWith('RESULT '))!.slice('RESULT '.length));
    expect(result).toEqual({ squares: [1, 4, 9, 16], total: 12, greeting: 'hello', nodes: 1 });

    const status = await run(join(bin, 'npx'), ['rayts', 'status'], project, env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('/2.0 CPU');

    const stop = await run(join(bin, 'npx'), ['rayts', 'stop'], project, env);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('Stopped all');
    expect(await pollUntil(() => !alive(head.pid), 30_000, 50)).toBe(true);
  }, 600_000);
});
