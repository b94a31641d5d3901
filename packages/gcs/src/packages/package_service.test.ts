import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { Header } from 'tar';
import {
  InvalidRequestError, NotFoundError, PackageClient, PackageRejectedError, PackageTooLargeError, RuntimeEnvError, bindServer, createServer,
  extractPackage, makeClient, nullLogger, packWorkingDir, packageUri, raytsProto, sha256OfFile, type PackedDir,
} from '@rayts/common';
import { PackageStore } from './package_store.js';
import { addPackageService } from './package_service.js';

const TOKEN = 'p'.repeat(64);

let tmp: string;
let storeDir: string;
let server: grpc.Server;
let address: string;
let clients: PackageClient[];
let pkg: PackedDir;

async function startHead(maxBytes: number, chunkBytes: number): Promise<void> {
  server?.forceShutdown();
  server = createServer({ token: TOKEN, logger: nullLogger, maxMessageBytes: 8 << 20, authFailureLogIntervalMs: 60_000 });
  addPackageService(server, new PackageStore({ dir: storeDir, maxBytes, logger: nullLogger }), { jobPackageChunkBytes: chunkBytes }, nullLogger);
  address = `127.0.0.1:${await bindServer(server, '127.0.0.1', 0, undefined, 'package test')}`;
}

function client(chunkBytes = 1024): PackageClient {
  const c = new PackageClient(address, { token: TOKEN, timeoutMs: 10_000, chunkBytes });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-pkgsvc-'));
  storeDir = path.join(tmp, 'state', 'packages');
  clients = [];
  const app = path.join(tmp, 'app');
  fs.mkdirSync(path.join(app, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(app, 'main.js'), 'console.log("hello")\n');
  fs.writeFileSync(path.join(app, 'bin', 'tool'), '#!/bin/sh\n');
  fs.chmodSync(path.join(app, 'bin', 'tool'), 0o755);
  fs.writeFileSync(path.join(app, 'random.bin'), randomBytes(20_000)); // incompressible: the package spans many chunks
  pkg = await packWorkingDir(app, path.join(tmp, 'app.tar.gz'));
  await startHead(1 << 20, 1000);
});
afterEach(() => {
  for (const c of clients) c.close();
  server.forceShutdown();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const storeFiles = () => fs.readdirSync(storeDir);

async function pollUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('PackageService with PackageClient', () => {
  it('uploads in chunks, answers exists, and downloads in chunks to a checked file', async () => {
    const c = client(1024);
    expect(await c.exists(pkg.uri)).toEqual({ exists: false, size: 0 });
    const progress: number[] = [];
    expect(await c.upload(pkg.uri, pkg.file, (sent, total) => {
      expect(total).toBe(pkg.size);
      progress.push(sent);
    })).toEqual({ size: pkg.size, existed: false });
    expect(progress.length).toBe(Math.ceil(pkg.size / 1024));
    expect(progress.at(-1)).toBe(pkg.size);
    expect(await c.exists(pkg.uri)).toEqual({ exists: true, size: pkg.size });

    const dest = path.join(tmp, 'node', 'downloads', 'pkg.tar.gz');
    expect(await c.download(pkg.uri, dest)).toBe(pkg.size);
    expect(await sha256OfFile(dest)).toBe(pkg.sha256);
    expect(fs.readdirSync(path.dirname(dest))).toEqual(['pkg.tar.gz']);
    const unpacked = path.join(tmp, 'node', 'working_dir', pkg.sha256);
    await extractPackage(dest, unpacked);
    expect(fs.readFileSync(path.join(unpacked, 'main.js'), 'utf8')).toBe('console.log("hello")\n');
    expect(fs.statSync(path.join(unpacked, 'bin', 'tool')).mode & 0o111).toBe(0o111);
  });

  it('does not store a package it has again', async () => {
    const c = client();
    await c.upload(pkg.uri, pkg.file);
    expect(await c.upload(pkg.uri, pkg.file)).toEqual({ size: pkg.size, existed: true });
    expect(storeFiles()).toEqual([`_rayts_pkg_${pkg.sha256}.tar.gz`]);
  });

  it('refuses a digest mismatch and keeps nothing', async () => {
    const err = await client().upload(packageUri('f'.repeat(64)), pkg.file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageRejectedError);
    expect((err as Error).message).toContain(`but its name says ${'f'.repeat(64)}`);
    expect(storeFiles()).toEqual([]);
  });

  it('refuses a package over the limit with the limit in the message, and keeps no partial file', async () => {
    await startHead(5000, 1000);
    const err = await client().upload(pkg.uri, pkg.file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageTooLargeError);
    expect((err as PackageTooLargeError).limitBytes).toBe(5000);
    expect((err as Error).message).toMatch(/over the head's limit of 4\.88 ?KiB \(RAYTS_JOB_PACKAGE_MAX_BYTES\)/);
    expect((err as PackageTooLargeError).hint).toContain('excludes');
    expect(storeFiles()).toEqual([]);
  });

  it('stops an upload that sends more than it announced once it passes the limit', async () => {
    await startHead(5000, 1000);
    const raw = makeClient(raytsProto().PackageService, address, { token: TOKEN, timeoutMs: 10_000 });
    try {
      const data = fs.readFileSync(pkg.file);
      const failure = new Promise<grpc.ServiceError | null>((resolve) => {
        const call = raw.UploadPackage(new grpc.Metadata(), {}, (err) => resolve(err));
        call.write({ uri: pkg.uri, size: 100, data: data.subarray(0, 1000) });
        for (let off = 1000; off < data.length; off += 1000) call.write({ data: data.subarray(off, off + 1000) });
        call.end();
      });
      const err = await failure;
      expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(err?.details).toContain("larger than the head's limit");
      expect(storeFiles()).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('deletes the partial file of an upload the client cancels', async () => {
    const raw = makeClient(raytsProto().PackageService, address, { token: TOKEN, timeoutMs: 10_000 });
    try {
      const data = fs.readFileSync(pkg.file);
      const call = raw.UploadPackage(new grpc.Metadata(), {}, () => undefined);
      call.write({ uri: pkg.uri, size: data.length, data: data.subarray(0, 1000) });
      await pollUntil(() => storeFiles().length === 1); // the temp file exists
      call.cancel();
      await pollUntil(() => storeFiles().length === 0);
    } finally {
      raw.close();
    }
  });

  it('refuses an unsafe package and a bad URI with what is wrong', async () => {
    const evil = path.join(tmp, 'evil.tar.gz');
    const h = new Header({ path: 'a/../../evil', type: 'File', size: 0, mode: 0o644, mtime: new Date(0) });
    h.encode();
    await pipeline(async function* () { yield h.block!; yield Buffer.alloc(1024); }, createGzip(), fs.createWriteStream(evil));
    const err = await client().upload(packageUri(await sha256OfFile(evil)), evil).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageRejectedError);
    expect((err as Error).message).toContain("unsafe entry 'a/../../evil'");
    expect(storeFiles()).toEqual([]);

    // The client checks URIs itself; the head too.
    await expect(client().exists('gcs://whatever.zip')).rejects.toThrow(RuntimeEnvError);
    const raw = makeClient(raytsProto().PackageService, address, { token: TOKEN, timeoutMs: 10_000 });
    try {
      const code = await new Promise<number | undefined>((resolve) => raw.PackageExists({ uri: 'gcs://whatever.zip' }, new grpc.Metadata(), (e) => resolve(e?.code)));
      expect(code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      raw.close();
    }
  });

  it('answers NotFoundError for a package it does not have, and leaves no file', async () => {
    const dest = path.join(tmp, 'dl', 'x.tar.gz');
    const err = await client().download(pkg.uri, dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain(`the head has no package ${pkg.uri}`);
    expect(err).not.toBeInstanceOf(InvalidRequestError);
    expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
  });

  it('refuses a download whose content does not match its name', async () => {
    const c = client();
    await c.upload(pkg.uri, pkg.file);
    const stored = path.join(storeDir, `_rayts_pkg_${pkg.sha256}.tar.gz`);
    const bytes = fs.readFileSync(stored);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(stored, bytes);
    const dest = path.join(tmp, 'dl', 'x.tar.gz');
    const err = await c.download(pkg.uri, dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageRejectedError);
    expect((err as Error).message).toContain('does not match its name');
    expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
  });
});

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** A valid 50 MB package made fast: one incompressible file, gzip level 0. */
async function bigPackage(file: string, bytes: number): Promise<string> {
  const h = new Header({ path: 'big.bin', type: 'File', size: bytes, mode: 0o644, mtime: new Date(0) });
  h.encode();
  const block = randomBytes(1 << 20);
  await pipeline(async function* () {
    yield h.block!;
    for (let sent = 0; sent < bytes; sent += block.length) yield block.subarray(0, Math.min(block.length, bytes - sent));
    yield Buffer.alloc(1024);
  }, createGzip({ level: 0 }), fs.createWriteStream(file));
  return packageUri(await sha256OfFile(file));
}

describe('PackageService memory', () => {
  it('streams a 128 MB upload and download without holding it in memory', async () => {
    // Large beside what streaming holds (a few chunk windows), so that the bound below has a wide margin both ways.
    const size = 128 * 1024 * 1024;
    // grpc-js buffers up to 16 messages on each receiving side whatever the reader's pace, so a transfer
    // holds about 20 chunks at most: 256 KiB chunks keep that bound far below the package's size.
    const chunkBytes = 256 * 1024;
    await startHead(size * 2, chunkBytes);
    const file = path.join(tmp, 'big.tar.gz');
    const uri = await bigPackage(file, size);
    const c = client(chunkBytes);
    // What the transfer holds, sampled after a collection so that garbage V8 has yet to free does not count:
    // the JS heap and the Buffers (RSS alone mostly shows the allocator's high-water mark and HTTP/2 windows).
    const live = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const baseline = live();
    const rssBefore = process.memoryUsage().rss;
    let peak = baseline;
    let uploadPeak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, live()); }, 100);
    try {
      await c.upload(uri, file);
      peak = Math.max(peak, live());
      uploadPeak = peak;
      const dest = path.join(tmp, 'dl', 'big.tar.gz');
      await c.download(uri, dest);
      expect(fs.statSync(dest).size).toBe(fs.statSync(file).size);
    } finally {
      clearInterval(sampler);
    }
    const growthMb = (peak - baseline) / (1 << 20);
    const rssMb = (process.memoryUsage().rss - rssBefore) / (1 << 20);
    console.log(`128 MB package: live memory grew by at most ${growthMb.toFixed(1)} MB (upload ${((uploadPeak - baseline) / (1 << 20)).toFixed(1)} MB), RSS by ${rssMb.toFixed(1)} MB (client and server in one process)`);
    // Holding the package would be 128+; streaming was seen at 3 to 30 (GC timing, two sides in one process).
    expect(growthMb).toBeLessThan(64);
  }, 120_000);
});
