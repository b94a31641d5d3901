import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { list } from 'tar';
import { RuntimeEnvError } from '../errors.js';
import { packWorkingDir } from './pack.js';
import { sha256OfFile } from './extract.js';
import { packageUri } from './package_uri.js';

let tmp: string;
let work: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-pack-'));
  work = path.join(tmp, 'app');
  fs.mkdirSync(work);
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function write(files: Record<string, string | Buffer>, root = work): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

interface Listed { path: string; type: string; mode: number; size: number; linkpath: string; mtime: number }

async function entries(file: string): Promise<Listed[]> {
  const out: Listed[] = [];
  await list({
    file, strict: true,
    onReadEntry: (e) => {
      out.push({ path: e.path, type: e.type, mode: e.mode ?? 0, size: e.size ?? 0, linkpath: e.linkpath ?? '', mtime: e.mtime?.getTime() ?? 0 });
    },
  });
  return out;
}

async function paths(file: string): Promise<string[]> {
  return (await entries(file)).map((e) => e.path);
}

let packs = 0;
function out(): string {
  return path.join(tmp, `pkg-${++packs}.tar.gz`);
}

async function packError(dir: string, excludes?: string[]): Promise<RuntimeEnvError> {
  const err = await packWorkingDir(dir, out(), { excludes }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RuntimeEnvError);
  return err as RuntimeEnvError;
}

describe('packWorkingDir: what goes in', () => {
  it('honours .gitignore at the root and nested ones below their folder, with git\'s precedence', async () => {
    write({
      '.gitignore': '*.log\nbuild/\n/only-root.txt\n',
      'a.js': 'a', 'x.log': 'x', 'build/out.js': 'o', 'only-root.txt': 'r',
      'sub/.gitignore': '!keep.log\nsecret.txt\n',
      'sub/keep.log': 'k', 'sub/y.log': 'y', 'sub/secret.txt': 's', 'sub/only-root.txt': 'not root',
      'other/secret.txt': 'not under sub',
    });
    const packed = await packWorkingDir(work, out());
    expect(await paths(packed.file)).toEqual([
      '.gitignore', 'a.js', 'other/', 'other/secret.txt', 'sub/', 'sub/.gitignore', 'sub/keep.log', 'sub/only-root.txt',
    ]);
    expect(packed.fileCount).toBe(6);
  });

  it('leaves out what the excludes match (gitignore patterns relative to the root)', async () => {
    write({ 'main.js': 'm', 'data/big.bin': 'b', 'src/data/keep.js': 'k', 'src/x.tmp': 't', 'docs/a.md': 'a' });
    const packed = await packWorkingDir(work, out(), { excludes: ['/data', '*.tmp', 'docs/'] });
    expect(await paths(packed.file)).toEqual(['main.js', 'src/', 'src/data/', 'src/data/keep.js']);
  });

  it('always leaves out .git and node_modules, at every level, even when a .gitignore re-includes them', async () => {
    write({
      '.gitignore': '!node_modules\n',
      'index.js': 'i', '.git/HEAD': 'ref', 'node_modules/x/index.js': 'x',
      'pkg/node_modules/y/index.js': 'y', 'pkg/.git': 'gitdir: elsewhere', 'pkg/lib.js': 'l',
    });
    const packed = await packWorkingDir(work, out());
    expect(await paths(packed.file)).toEqual(['.gitignore', 'index.js', 'pkg/', 'pkg/lib.js']);
  });

  it('keeps empty folders, long paths, and skips fifos and sockets', async () => {
    const long = `${'deep-folder-name/'.repeat(8)}${'f'.repeat(120)}.txt`;
    write({ [long]: 'long', 'a.txt': 'a' });
    fs.mkdirSync(path.join(work, 'empty'));
    execFileSync('mkfifo', [path.join(work, 'pipe')]);
    const packed = await packWorkingDir(work, out());
    const listed = await paths(packed.file);
    expect(listed).toContain(long);
    expect(listed).toContain('empty/');
    expect(listed).not.toContain('pipe');
  });

  it('writes portable headers: fixed mtime, git modes, sorted entries', async () => {
    write({ 'b.sh': '#!/bin/sh\n', 'a.txt': 'a', 'c/d.txt': 'd' });
    fs.chmodSync(path.join(work, 'b.sh'), 0o775);
    fs.chmodSync(path.join(work, 'a.txt'), 0o600);
    const listed = await entries((await packWorkingDir(work, out())).file);
    expect(listed.map((e) => [e.path, e.type, e.mode.toString(8)])).toEqual([
      ['a.txt', 'File', '644'], ['b.sh', 'File', '755'], ['c/', 'Directory', '755'], ['c/d.txt', 'File', '644'],
    ]);
    expect(new Set(listed.map((e) => e.mtime))).toEqual(new Set([Date.parse('2000-01-01T00:00:00Z')]));
  });

  it('reports progress per file and the largest folders by the bytes of their own files', async () => {
    write({ 'r.txt': 'x'.repeat(10), 'big/a.bin': 'x'.repeat(5000), 'big/sub/b.bin': 'x'.repeat(3000), 'small/c.txt': 'x'.repeat(100) });
    const progress: [number, number][] = [];
    const packed = await packWorkingDir(work, out(), { onProgress: (done, total) => progress.push([done, total]) });
    expect(progress).toEqual([[0, 4], [1, 4], [2, 4], [3, 4], [4, 4]]);
    expect(packed.totalBytes).toBe(8110);
    expect(packed.largestFolders).toEqual([
      { path: 'big', bytes: 5000 }, { path: 'big/sub', bytes: 3000 }, { path: 'small', bytes: 100 }, { path: '.', bytes: 10 },
    ]);
    expect(packed.size).toBe(fs.statSync(packed.file).size);
    expect(packed.sha256).toBe(await sha256OfFile(packed.file));
    expect(packed.uri).toBe(packageUri(packed.sha256));
  });
});

describe('packWorkingDir: determinism', () => {
  it('gives the same bytes for the same tree, whatever the mtimes; another sha when a byte or a mode changes', async () => {
    write({ 'main.js': 'console.log(1)\n', 'lib/util.js': 'export {}\n', 'bin/run': '#!/bin/sh\n' });
    const first = await packWorkingDir(work, out());
    const second = await packWorkingDir(work, out());
    expect(second.sha256).toBe(first.sha256);
    expect(fs.readFileSync(second.file).equals(fs.readFileSync(first.file))).toBe(true);

    const old = new Date('2011-11-11T11:11:11Z');
    for (const rel of ['main.js', 'lib/util.js', 'lib', 'bin/run']) fs.utimesSync(path.join(work, rel), old, old);
    expect((await packWorkingDir(work, out())).sha256).toBe(first.sha256);

    // The same tree elsewhere, made in another order, gives the same package.
    const copy = path.join(tmp, 'copy');
    write({ 'bin/run': '#!/bin/sh\n', 'lib/util.js': 'export {}\n', 'main.js': 'console.log(1)\n' }, copy);
    expect((await packWorkingDir(copy, out())).sha256).toBe(first.sha256);

    write({ 'main.js': 'console.log(2)\n' });
    const changed = await packWorkingDir(work, out());
    expect(changed.sha256).not.toBe(first.sha256);

    fs.chmodSync(path.join(work, 'main.js'), 0o755);
    expect((await packWorkingDir(work, out())).sha256).not.toBe(changed.sha256);
  });
});

describe('packWorkingDir: symlinks', () => {
  it('keeps relative symlinks that stay inside, also through other kept links', async () => {
    write({ 'lib/v2/index.js': 'x', 'data.txt': 'd' });
    fs.symlinkSync('v2', path.join(work, 'lib/current'));
    fs.symlinkSync('lib/current/index.js', path.join(work, 'entry.js'));
    fs.symlinkSync('missing-but-inside', path.join(work, 'dangling'));
    const listed = await entries((await packWorkingDir(work, out())).file);
    const links = listed.filter((e) => e.type === 'SymbolicLink').map((e) => [e.path, e.linkpath]);
    expect(links).toEqual([['dangling', 'missing-but-inside'], ['entry.js', 'lib/current/index.js'], ['lib/current', 'v2']]);
  });

  it('refuses a link that leads outside, an absolute one, or one that leaves through another link', async () => {
    write({ 'a.txt': 'a' });
    fs.symlinkSync('../outside.txt', path.join(work, 'out'));
    let err = await packError(work);
    expect(err.message).toContain(`the symlink '${path.join(work, 'out')}' -> '../outside.txt' points outside '${work}'`);
    expect(err.field).toBe('working_dir');
    fs.unlinkSync(path.join(work, 'out'));

    fs.symlinkSync('/etc/passwd', path.join(work, 'abs'));
    err = await packError(work);
    expect(err.message).toContain("-> '/etc/passwd' is an absolute path");
    fs.unlinkSync(path.join(work, 'abs'));

    fs.mkdirSync(path.join(work, 'd'));
    fs.symlinkSync('..', path.join(work, 'd/up'));
    fs.symlinkSync('up/..', path.join(work, 'd/b'));
    err = await packError(work);
    expect(err.message).toContain("d/b' -> 'up/..' points outside");

    // Left out by .gitignore: no longer a problem.
    write({ '.gitignore': 'd/b\n' });
    await expect(packWorkingDir(work, out())).resolves.toMatchObject({ fileCount: 2 });
  });
});

describe('packWorkingDir: bad directories', () => {
  it('says what is wrong with the directory', async () => {
    expect((await packError(path.join(tmp, 'nope'))).message).toBe(`runtime_env.working_dir: '${path.join(tmp, 'nope')}' does not exist`);
    write({ 'file.txt': 'x' });
    expect((await packError(path.join(work, 'file.txt'))).message).toBe(`runtime_env.working_dir: '${path.join(work, 'file.txt')}' is not a directory`);
    fs.mkdirSync(path.join(tmp, 'empty'));
    expect((await packError(path.join(tmp, 'empty'))).message).toContain('has nothing to pack');
  });

  it('names an unreadable folder', async () => {
    if (process.getuid?.() === 0) {
      // root reads everything: check the other half of the rule instead (ignored folders are never read)
      write({ 'locked/x': 'x', 'a.txt': 'a', '.gitignore': 'locked/\n' });
      await expect(packWorkingDir(work, out())).resolves.toMatchObject({ fileCount: 2 });
      return;
    }
    write({ 'locked/x': 'x', 'a.txt': 'a' });
    fs.chmodSync(path.join(work, 'locked'), 0o000);
    try {
      const err = await packError(work);
      expect(err.message).toContain(`cannot read '${path.join(work, 'locked')}': permission denied`);
      write({ '.gitignore': 'locked/\n' });
      await expect(packWorkingDir(work, out())).resolves.toMatchObject({ fileCount: 2 });
    } finally {
      fs.chmodSync(path.join(work, 'locked'), 0o755);
    }
  });
});
