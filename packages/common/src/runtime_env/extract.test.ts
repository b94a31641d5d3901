import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { AlreadyExistsError, PackageRejectedError } from '../errors.js';
import { extractPackage, sha256OfFile, verifyPackage } from './extract.js';
import { packWorkingDir } from './pack.js';

let tmp: string;
/** Holds the archive and the destination; nothing may appear in it but what a test put there. */
let sandbox: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-extract-'));
  sandbox = path.join(tmp, 'sandbox', 'inner');
  fs.mkdirSync(sandbox, { recursive: true });
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Crafted {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO' | 'CharacterDevice';
  linkpath?: string;
  body?: string;
  mode?: number;
}

/** A tar written header by header, as a hostile client could. */
function tarOf(entries: Crafted[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'File';
    const header = new Header({
      path: e.path, type, linkpath: e.linkpath ?? '', size: type === 'File' ? body.length : 0,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644), mtime: new Date(0), uid: 0, gid: 0,
    });
    header.encode();
    blocks.push(header.block!);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function craft(entries: Crafted[]): Buffer {
  return gzipSync(tarOf(entries));
}

function writeArchive(data: Buffer): string {
  const file = path.join(sandbox, 'pkg.tar.gz');
  fs.writeFileSync(file, data);
  return file;
}

/** Every path under tmp (the sandbox's parents included). */
function snapshot(): string[] {
  return (fs.readdirSync(tmp, { recursive: true }) as string[]).sort();
}

async function expectRejected(data: Buffer, ...fragments: string[]): Promise<void> {
  const file = writeArchive(data);
  const before = snapshot();
  const dest = path.join(sandbox, 'dest');
  for (const attempt of [verifyPackage(file), extractPackage(file, dest)]) {
    const err = await attempt.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageRejectedError);
    for (const f of fragments) expect((err as Error).message).toContain(f);
  }
  expect(snapshot()).toEqual(before);
  expect(fs.existsSync(dest)).toBe(false);
}

describe('verifyPackage / extractPackage refuse hostile archives, writing nothing', () => {
  it.each([
    ['../evil', "the path has a '..' segment"],
    ['/abs/evil', 'the path is absolute'],
    ['a/../../evil', "the path has a '..' segment"],
    ['a//b', 'not normalized'],
    ['./a', 'not normalized'],
  ])('a file at %s', async (entryPath, why) => {
    await expectRejected(craft([{ path: 'ok.txt', body: 'fine' }, { path: entryPath, body: 'evil' }]), `unsafe entry '${entryPath}'`, why);
  });

  it('a symlink out of the root, then a file through it', async () => {
    await expectRejected(craft([
      { path: 'link', type: 'SymbolicLink', linkpath: '../../etc' },
      { path: 'link/file', body: 'evil' },
    ]), "unsafe entry 'link'", "the symlink to '../../etc' points outside the package");
  });

  it('a file through a symlink that stays inside', async () => {
    await expectRejected(craft([
      { path: 'sub/', type: 'Directory' },
      { path: 'link', type: 'SymbolicLink', linkpath: 'sub' },
      { path: 'link/file', body: 'x' },
    ]), "unsafe entry 'link/file'", "goes through the symlink 'link'");
  });

  it('a symlink to an absolute path', async () => {
    await expectRejected(craft([{ path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }]), "unsafe entry 'passwd'", 'absolute');
  });

  it('a symlink that leaves only when followed through a link that comes later', async () => {
    await expectRejected(craft([
      { path: 'd/', type: 'Directory' },
      { path: 'd/b', type: 'SymbolicLink', linkpath: 'up/..' },
      { path: 'd/up', type: 'SymbolicLink', linkpath: '..' },
    ]), "unsafe entry 'd/b'", 'points outside the package');
  });

  it('a symlink loop', async () => {
    await expectRejected(craft([
      { path: 'a', type: 'SymbolicLink', linkpath: 'b/x' },
      { path: 'b', type: 'SymbolicLink', linkpath: 'a/y' },
    ]), 'too many symlinks');
  });

  it('a hard link', async () => {
    await expectRejected(craft([{ path: 'a.txt', body: 'a' }, { path: 'h', type: 'Link', linkpath: 'a.txt' }]), "unsafe entry 'h'", 'hard links');
  });

  it('a fifo and a device', async () => {
    await expectRejected(craft([{ path: 'f', type: 'FIFO' }]), "unsafe entry 'f'", 'fifos');
    await expectRejected(craft([{ path: 'dev', type: 'CharacterDevice' }]), "unsafe entry 'dev'", 'device');
  });

  it('setuid bits and an entry that appears twice', async () => {
    await expectRejected(craft([{ path: 'su', body: 'x', mode: 0o4755 }]), "unsafe entry 'su'", 'setuid');
    await expectRejected(craft([{ path: 'a', body: 'x' }, { path: 'a', body: 'y' }]), "unsafe entry 'a'", 'appears twice');
  });

  it('more unpacked bytes than the limit', async () => {
    const file = writeArchive(craft([{ path: 'a', body: 'x'.repeat(600) }, { path: 'b', body: 'y'.repeat(600) }]));
    await expect(verifyPackage(file, { maxUnpackedBytes: 1000 })).rejects.toThrow(/unsafe entry 'b'.*more than 1000 ?B/);
    await expect(extractPackage(file, path.join(sandbox, 'dest'), { maxUnpackedBytes: 1000 })).rejects.toBeInstanceOf(PackageRejectedError);
    await expect(verifyPackage(file, { maxUnpackedBytes: 1200 })).resolves.toEqual({ fileCount: 2, totalBytes: 1200 });
  });

  it('files that are not a .tar.gz', async () => {
    await expectRejected(Buffer.from('just some text, not an archive'), 'not a gzip file');
    await expectRejected(tarOf([{ path: 'a', body: 'plain tar' }]), 'not a gzip file');
    await expectRejected(gzipSync(Buffer.from('x'.repeat(2000))), 'not a valid .tar.gz');
    const good = craft([{ path: 'a', body: 'x'.repeat(5000) }]);
    await expectRejected(good.subarray(0, good.length - 20), 'not a valid .tar.gz');
  });
});

describe('extractPackage', () => {
  it('round-trips a packed directory: same files, modes and symlinks', async () => {
    const src = path.join(tmp, 'src');
    const files: Record<string, string> = { 'main.js': 'console.log(1)\n', 'bin/run.sh': '#!/bin/sh\necho hi\n', 'lib/deep/x.json': '{}' };
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
      fs.writeFileSync(path.join(src, rel), content);
    }
    fs.chmodSync(path.join(src, 'bin/run.sh'), 0o755);
    fs.mkdirSync(path.join(src, 'empty'));
    fs.symlinkSync('lib/deep/x.json', path.join(src, 'config.json'));
    const packed = await packWorkingDir(src, path.join(sandbox, 'p.tar.gz'));
    expect(await sha256OfFile(packed.file)).toBe(packed.sha256);

    const dest = path.join(sandbox, 'unpacked', packed.sha256);
    const contents = await extractPackage(packed.file, dest);
    expect(contents).toEqual({ fileCount: 3, totalBytes: packed.totalBytes });
    for (const [rel, content] of Object.entries(files)) expect(fs.readFileSync(path.join(dest, rel), 'utf8')).toBe(content);
    expect(fs.statSync(path.join(dest, 'bin/run.sh')).mode & 0o111).toBe(0o111);
    expect(fs.statSync(path.join(dest, 'main.js')).mode & 0o111).toBe(0);
    expect(fs.statSync(path.join(dest, 'empty')).isDirectory()).toBe(true);
    expect(fs.readlinkSync(path.join(dest, 'config.json'))).toBe('lib/deep/x.json');
    expect(fs.readFileSync(path.join(dest, 'config.json'), 'utf8')).toBe('{}');
    // Only the destination appeared: no temp dir left beside it.
    expect(fs.readdirSync(path.dirname(dest))).toEqual([packed.sha256]);

    const err = await extractPackage(packed.file, dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect((err as Error).message).toContain(dest);
  });
});
