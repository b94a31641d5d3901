import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { PackageRejectedError, PackageTooLargeError, RuntimeEnvError, nullLogger, packWorkingDir, packageUri, type PackedDir } from '@rayts/common';
import { PackageStore } from './package_store.js';

let tmp: string;
let storeDir: string;
let pkg: PackedDir;
beforeEach(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-pkgstore-'));
  storeDir = path.join(tmp, 'state', 'packages');
  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'main.js'), 'console.log("hello")\n');
  fs.writeFileSync(path.join(app, 'data.bin'), Buffer.alloc(3000, 7));
  pkg = await packWorkingDir(app, path.join(tmp, 'app.tar.gz'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const body = (file: string, chunk = 100) => fs.createReadStream(file, { highWaterMark: chunk });

function store(maxBytes = 1 << 20): PackageStore {
  return new PackageStore({ dir: storeDir, maxBytes, logger: nullLogger });
}

describe('PackageStore', () => {
  it('stores an upload under its name, and knows it afterwards', async () => {
    const s = store();
    expect(s.info(pkg.uri)).toEqual({ exists: false, size: 0 });
    expect(s.path(pkg.uri)).toBeUndefined();
    expect(await s.put(pkg.uri, body(pkg.file), pkg.size)).toEqual({ size: pkg.size, existed: false });
    expect(s.info(pkg.uri)).toEqual({ exists: true, size: pkg.size });
    expect(fs.readFileSync(s.path(pkg.uri)!).equals(fs.readFileSync(pkg.file))).toBe(true);
    expect(fs.readdirSync(storeDir)).toEqual([`_rayts_pkg_${pkg.sha256}.tar.gz`]);
    expect(s.list()).toEqual([{ uri: pkg.uri, size: pkg.size, mtimeMs: expect.any(Number) }]);
  });

  it('drains an upload of a package it has and keeps one copy', async () => {
    const s = store();
    await s.put(pkg.uri, body(pkg.file));
    const again = body(pkg.file);
    expect(await s.put(pkg.uri, again)).toEqual({ size: pkg.size, existed: true });
    expect(again.readableEnded).toBe(true);
    expect(fs.readdirSync(storeDir)).toHaveLength(1);
  });

  it('survives two concurrent uploads of the same package', async () => {
    const s = store();
    const results = await Promise.all([s.put(pkg.uri, body(pkg.file, 64)), s.put(pkg.uri, body(pkg.file, 64))]);
    expect(results.map((r) => r.size)).toEqual([pkg.size, pkg.size]);
    expect(fs.readdirSync(storeDir)).toEqual([`_rayts_pkg_${pkg.sha256}.tar.gz`]);
    expect(fs.readFileSync(s.path(pkg.uri)!).equals(fs.readFileSync(pkg.file))).toBe(true);
  });

  it('refuses a digest mismatch and a short upload, keeping nothing', async () => {
    const s = store();
    const wrong = packageUri('0'.repeat(64));
    await expect(s.put(wrong, body(pkg.file))).rejects.toThrow(PackageRejectedError);
    await expect(s.put(wrong, body(pkg.file))).rejects.toThrow(/sha256 is [0-9a-f]{64}, but its name says 0{64}/);
    await expect(s.put(pkg.uri, body(pkg.file), pkg.size + 10)).rejects.toThrow(/ended after \d+ of the \d+ bytes announced/);
    expect(fs.readdirSync(storeDir)).toEqual([]);
  });

  it('refuses a package with unsafe entries after checking its digest', async () => {
    const evil = path.join(tmp, 'evil.tar.gz');
    // A valid package whose one entry is renamed to ../evil, keeping the header checksum valid.
    const { Header } = await import('tar');
    const { gzipSync } = await import('node:zlib');
    const h = new Header({ path: '../evil', type: 'File', size: 1, mode: 0o644, mtime: new Date(0) });
    h.encode();
    fs.writeFileSync(evil, gzipSync(Buffer.concat([h.block!, Buffer.from('x'), Buffer.alloc(511), Buffer.alloc(1024)])));
    const { sha256OfFile } = await import('@rayts/common');
    const uri = packageUri(await sha256OfFile(evil));
    const err = await store().put(uri, body(evil)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageRejectedError);
    expect((err as Error).message).toContain("unsafe entry '../evil'");
    expect(fs.readdirSync(storeDir)).toEqual([]);
  });

  it('refuses at once an upload announced over the limit, without reading it', async () => {
    const s = store(1000);
    let reads = 0;
    const unread = new Readable({ read() { reads += 1; this.push(null); } });
    const err = await s.put(pkg.uri, unread, 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageTooLargeError);
    expect((err as PackageTooLargeError).limitBytes).toBe(1000);
    expect((err as Error).message).toMatch(/the package is 4\.88 ?KiB, over the head's limit of 1000 ?B \(RAYTS_JOB_PACKAGE_MAX_BYTES\)/);
    expect(reads).toBe(0);
  });

  it('stops reading as soon as an upload passes the limit, and deletes the partial file', async () => {
    const s = store(1000);
    const source = new PassThrough();
    let written = 0;
    const feed = setInterval(() => {
      if (written < 100_000) {
        source.write(Buffer.alloc(500));
        written += 500;
      }
    }, 1);
    try {
      const err = await s.put(pkg.uri, source).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PackageTooLargeError);
      expect((err as Error).message).toContain("larger than the head's limit of 1000");
      expect(written).toBeLessThan(100_000);
      expect(source.destroyed).toBe(false); // the caller may still answer on the connection
      expect(fs.readdirSync(storeDir)).toEqual([]);
    } finally {
      clearInterval(feed);
    }
  });

  it('deletes packages, and unreferenced ones older than the TTL', async () => {
    const s = store();
    await s.put(pkg.uri, body(pkg.file));
    const other = await packWorkingDir(path.join(tmp, 'app'), path.join(tmp, 'other.tar.gz'), { excludes: ['data.bin'] });
    await s.put(other.uri, Readable.from(fs.readFileSync(other.file)));
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(s.path(pkg.uri)!, old, old);
    fs.utimesSync(s.path(other.uri)!, old, old);

    expect(s.deleteUnreferenced(new Set([other.uri]), 60_000)).toEqual([pkg.uri]);
    expect(s.deleteUnreferenced(new Set(), 7_200_000)).toEqual([]);
    // Asking about a package keeps it another TTL.
    expect(s.info(other.uri).exists).toBe(true);
    expect(s.deleteUnreferenced(new Set(), 60_000)).toEqual([]);
    expect(s.delete(other.uri)).toBe(true);
    expect(s.delete(other.uri)).toBe(false);
    expect(s.list()).toEqual([]);
  });

  it('says what is wrong with an invalid URI', () => {
    const s = store();
    expect(() => s.info('gcs://nope.zip')).toThrow(RuntimeEnvError);
    expect(() => s.path('../../etc/passwd')).toThrow(/is not a package URI/);
  });

  it('removes uploads a crash left behind when it starts', () => {
    fs.mkdirSync(storeDir, { recursive: true });
    fs.writeFileSync(path.join(storeDir, `.upload-abc-_rayts_pkg_${'1'.repeat(64)}.tar.gz`), 'partial');
    store();
    expect(fs.readdirSync(storeDir)).toEqual([]);
  });
});
