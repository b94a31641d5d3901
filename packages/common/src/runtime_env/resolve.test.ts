import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PackageTooLargeError, RuntimeEnvError } from '../errors.js';
import { sha256OfFile } from './extract.js';
import { packageUri } from './package_uri.js';
import { resolveRuntimeEnv } from './resolve.js';

let tmp: string;
let base: string;
let tmpDir: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-resolve-'));
  base = path.join(tmp, 'project');
  tmpDir = path.join(tmp, 'scratch');
  fs.mkdirSync(path.join(base, 'app', 'data'), { recursive: true });
  fs.writeFileSync(path.join(base, 'app', 'main.js'), 'console.log(1)\n');
  fs.writeFileSync(path.join(base, 'app', 'data', 'big.bin'), Buffer.alloc(5000, 1));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The head's side of the narrow interface resolve uses: remembers what it was sent, or refuses as over a limit. */
class Head {
  readonly stored = new Map<string, string>();
  calls: string[] = [];
  constructor(private readonly limitBytes = Infinity) {}
  async exists(uri: string) {
    this.calls.push(`exists ${uri}`);
    return { exists: this.stored.has(uri), size: 0 };
  }
  async upload(uri: string, file: string) {
    this.calls.push(`upload ${uri}`);
    const size = fs.statSync(file).size;
    if (size > this.limitBytes) throw new PackageTooLargeError(this.limitBytes, `the package is ${size} B, over the head's limit of ${this.limitBytes} B`);
    expect(packageUri(await sha256OfFile(file))).toBe(uri);
    this.stored.set(uri, fs.readFileSync(file, 'base64'));
    return { size, existed: false };
  }
}

describe('resolveRuntimeEnv', () => {
  it('packs a relative working_dir from baseDir, uploads it once, and keeps the other fields', async () => {
    const head = new Head();
    const lines: string[] = [];
    const env = { working_dir: './app', env_vars: { A: '1' }, excludes: ['*.tmp'], npm: false };
    const resolved = await resolveRuntimeEnv(env, { baseDir: base, uploader: head, tmpDir, onStatus: (l) => lines.push(l) });
    expect(resolved.working_dir).toMatch(/^gcs:\/\/_rayts_pkg_[0-9a-f]{64}\.tar\.gz$/);
    expect(resolved).toEqual({ ...env, working_dir: resolved.working_dir });
    expect(env.working_dir).toBe('./app');
    expect(head.calls).toEqual([`exists ${resolved.working_dir}`, `upload ${resolved.working_dir}`]);
    expect(lines[0]).toMatch(/^Packing \.\/app: 2 files, 4\.90 ?KiB \(package .*\)$/);
    expect(lines[1]).toContain(`Uploading ${resolved.working_dir}`);
    expect(fs.readdirSync(tmpDir)).toEqual([]);

    head.calls = [];
    lines.length = 0;
    const again = await resolveRuntimeEnv(env, { baseDir: base, uploader: head, tmpDir, onStatus: (l) => lines.push(l) });
    expect(again.working_dir).toBe(resolved.working_dir);
    expect(head.calls).toEqual([`exists ${resolved.working_dir}`]);
    expect(lines[1]).toBe(`The head has ${resolved.working_dir} already`);
  });

  it('keeps a package URI and an env without working_dir as they are', async () => {
    const head = new Head();
    const uri = packageUri('a'.repeat(64));
    expect(await resolveRuntimeEnv({ working_dir: uri, env_vars: { B: '2' } }, { baseDir: base, uploader: head, tmpDir })).toEqual({ working_dir: uri, env_vars: { B: '2' } });
    expect(await resolveRuntimeEnv({ env_vars: { B: '2' } }, { baseDir: base, uploader: head, tmpDir })).toEqual({ env_vars: { B: '2' } });
    expect(head.calls).toEqual([]);
  });

  it('names the largest folders when the head refuses the package as too large', async () => {
    const err = await resolveRuntimeEnv({ working_dir: 'app' }, { baseDir: base, uploader: new Head(50), tmpDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageTooLargeError);
    expect((err as PackageTooLargeError).limitBytes).toBe(50);
    expect((err as Error).message).toMatch(/over the head's limit of 50 B; it packs 2 files of 4\.90 ?KiB, most of them in: data \(4\.88 ?KiB\), \. \(15 ?B\)/);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
  });

  it('says what is wrong with the directory, and leaves nothing behind', async () => {
    const err = await resolveRuntimeEnv({ working_dir: 'nope' }, { baseDir: base, uploader: new Head(), tmpDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeEnvError);
    expect((err as Error).message).toBe(`runtime_env.working_dir: '${path.join(base, 'nope')}' does not exist`);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
  });
});
