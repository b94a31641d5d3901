/**
 * The package routes inside the whole server, over real HTTP (uploads are streams): names checked,
 * bodies streamed past the server's general body limit into the PackageApi, 413 over the package
 * limit from Content-Length (nothing read) and while a chunked body streams, auth before any byte.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { FileLogger, packageName, packageUri } from '@rayts/common';
import { createDashboardApp } from '../server.js';
import { packageRoutes } from './package_routes.js';
import { MemoryPackages } from './fakes.test_helper.js';

const TOKEN = '3c'.repeat(32);
const LIMIT = 64 * 1024;
const GENERAL_LIMIT = 4096;

let dir: string;
let logger: FileLogger;
let app: FastifyInstance;
let packages: MemoryPackages;
let base: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rayts-package-routes-'));
  logger = new FileLogger({ path: join(dir, 'dashboard.log'), component: 'dashboard', level: 'debug' });
  packages = new MemoryPackages(LIMIT);
  app = await createDashboardApp({
    host: '127.0.0.1', port: 0, advertiseHost: '127.0.0.1', token: TOKEN, clusterId: 'c'.repeat(56), logger,
    config: { dashboardBodyLimitBytes: GENERAL_LIMIT, dashboardSessionTtlS: 60, authFailureLogIntervalMs: 0, jobPackageMaxBytes: LIMIT },
    routes: [packageRoutes({ packages })],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await app.close();
  logger.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const pathOf = (data: Buffer) => `/api/packages/gcs/${packageName(sha(data))}`;

interface Answer { status: number; body: Record<string, unknown> }

/**
 * PUTs `chunks` one by one (chunked unless `length` is given), as a client streaming a file does.
 * The server may answer and close before the body is through; the answer is what counts.
 */
function put(path: string, chunks: Buffer[], options: { length?: number; type?: string; token?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': options.type ?? 'application/octet-stream' };
    if (options.token !== false) headers.authorization = `Bearer ${TOKEN}`;
    if (options.length !== undefined) headers['content-length'] = options.length;
    const req = httpRequest(`${base}${path}`, { method: 'PUT', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) as Record<string, unknown> : {} }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // Writing on after the server refused and closed: the answer may still have come.
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    const send = (i: number) => {
      if (i === chunks.length) { req.end(); return; }
      if (req.destroyed) return;
      req.write(chunks[i], () => setImmediate(() => send(i + 1)));
    };
    send(0);
  });
}

async function get(path: string): Promise<Answer> {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: r.status, body: await r.json() as Record<string, unknown> };
}

describe('PUT /api/packages/gcs/<name>', () => {
  it('streams a body far over the general body limit into the store; GET then finds it; a second upload says it existed', async () => {
    const data = randomBytes(LIMIT - 100);
    const path = pathOf(data);
    expect(await get(path)).toMatchObject({ status: 404, body: { error: `package ${packageUri(sha(data))} is not on the head` } });
    const chunks = [data.subarray(0, 10_000), data.subarray(10_000, 40_000), data.subarray(40_000)];
    expect(await put(path, chunks, { length: data.length })).toEqual({ status: 200, body: { uri: packageUri(sha(data)), size: data.length, existed: false } });
    expect(packages.stored.get(packageUri(sha(data)))?.equals(data)).toBe(true);
    expect(await get(path)).toEqual({ status: 200, body: { exists: true, size: data.length } });
    expect((await put(path, chunks)).body).toMatchObject({ existed: true });
  });

  it('over the limit by Content-Length: 413 naming the limit, before the store reads a byte', async () => {
    const data = randomBytes(LIMIT + 1);
    const answer = await put(pathOf(data), [data.subarray(0, 1000), data.subarray(1000)], { length: data.length });
    expect(answer.status).toBe(413);
    expect(answer.body.error).toBe(`the package is 64.00KiB, over the head's limit of 64.00KiB (${LIMIT} bytes, RAYTS_JOB_PACKAGE_MAX_BYTES)`);
    expect(answer.body.hint).toContain('excludes');
    expect(packages.lastRead).toBe(0);
    expect(packages.stored.size).toBe(0);
  });

  it('over the limit while a chunked body streams: 413 naming the limit, nothing stored', async () => {
    const data = randomBytes(3 * LIMIT);
    const chunks = Array.from({ length: 24 }, (_, i) => data.subarray(i * 8192, (i + 1) * 8192));
    const answer = await put(pathOf(data), chunks);
    expect(answer.status).toBe(413);
    expect(answer.body.error).toBe(`more than 64.00KiB were sent, over the head's limit of 64.00KiB (${LIMIT} bytes, RAYTS_JOB_PACKAGE_MAX_BYTES)`);
    expect(packages.lastRead).toBeLessThanOrEqual(LIMIT);
    expect(packages.stored.size).toBe(0);
  });

  it('a body whose digest is not its name is a 400', async () => {
    const data = randomBytes(1000);
    const answer = await put(pathOf(randomBytes(10)), [data]);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(/sha256 does not match/);
  });

  it('names: another protocol or a name that is not _rayts_pkg_<sha256>.tar.gz is a 400 saying the expected form', async () => {
    const s3 = await put(`/api/packages/s3/${packageName('a'.repeat(64))}`, [Buffer.from('x')]);
    expect(s3.status).toBe(400);
    expect(s3.body.error).toContain('packages live under /api/packages/gcs/<name>');
    for (const name of ['app.zip', `_rayts_pkg_${'A'.repeat(64)}.tar.gz`, '_rayts_pkg_abc.tar.gz']) {
      const r = await put(`/api/packages/gcs/${name}`, [Buffer.from('x')]);
      expect(r.status, name).toBe(400);
      expect(r.body.error).toContain('expected _rayts_pkg_<sha256>.tar.gz');
      expect((await get(`/api/packages/gcs/${name}`)).status).toBe(400);
    }
  });

  it('only application/octet-stream: JSON or text bodies are a 415, and keep the general limit', async () => {
    const data = Buffer.from('{"a":1}');
    const json = await put(pathOf(data), [data], { type: 'application/json' });
    expect(json.status).toBe(415);
    expect(json.body.error).toContain('application/octet-stream');
    const text = await put(pathOf(data), [data], { type: 'text/plain' });
    expect(text.status).toBe(415);
    expect(packages.stored.size).toBe(0);
  });

  it('without the token: 401 and the body is never read', async () => {
    const data = randomBytes(LIMIT - 1);
    const answer = await put(pathOf(data), [data], { token: false, length: data.length });
    expect(answer.status).toBe(401);
    expect(packages.lastRead).toBe(0);
    expect(packages.stored.size).toBe(0);
  });
});
