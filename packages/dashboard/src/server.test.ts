/**
 * The server as a whole, on 127.0.0.1 port 0 with a test route plugin: what the cluster test cannot
 * provoke (a handler that throws, rayts errors from handlers), and that plugins sit behind the hook.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { FileLogger, NotFoundError, PROTOCOL_VERSION, RAYTS_VERSION } from '@rayts/common';
import { startDashboard, type RunningDashboard } from './server.js';

const TOKEN = '5e'.repeat(32);
const auth = { authorization: `Bearer ${TOKEN}` };

const testRoutes: FastifyPluginAsync = async (app) => {
  app.get('/api/test/boom', async () => { throw new Error('secret internals at line 42'); });
  app.get('/api/test/missing', async () => { throw new NotFoundError('no actor abc'); });
  app.post('/api/test/echo', async (request) => ({ got: request.body }));
};

let dir: string;
let logger: FileLogger;
let server: RunningDashboard;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rayts-dashboard-test-'));
  logger = new FileLogger({ path: join(dir, 'dashboard.log'), component: 'dashboard', level: 'debug' });
  server = await startDashboard({
    host: '127.0.0.1', port: 0, advertiseHost: '127.0.0.1', token: TOKEN, clusterId: 'c'.repeat(56), logger,
    config: { dashboardBodyLimitBytes: 4096, dashboardSessionTtlS: 60, authFailureLogIntervalMs: 0, jobPackageMaxBytes: 1 << 20 }, routes: [testRoutes],
  });
});

afterEach(async () => {
  await server.stop();
  logger.close();
  rmSync(dir, { recursive: true, force: true });
});

const log = () => readFileSync(join(dir, 'dashboard.log'), 'utf8');

describe('startDashboard', () => {
  it('listens on the port it picked and says where', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(log()).toContain('"msg":"the HTTP API listens"');
  });

  it('a handler that throws gets a generic 500; the stack goes to the log only', async () => {
    const r = await fetch(`${server.url}/api/test/boom`, { headers: auth });
    expect(r.status).toBe(500);
    const body = await r.json() as { error: string };
    expect(body.error).toBe('internal error');
    expect(JSON.stringify(body)).not.toContain('secret internals');
    expect(log()).toContain('secret internals at line 42');
    expect(log()).toMatch(/"stack":"Error: secret internals/);
  });

  it('GET /api/version: rayts\'s fields, Ray\'s, and the package limit `rayts job submit` checks before uploading', async () => {
    const r = await fetch(`${server.url}/api/version`, { headers: auth });
    expect(await r.json()).toEqual({
      version: RAYTS_VERSION, protocolVersion: PROTOCOL_VERSION, clusterId: 'c'.repeat(56),
      ray_version: RAYTS_VERSION, ray_commit: null, session_name: null, package_max_bytes: 1 << 20,
    });
  });

  it('rayts errors thrown by handlers keep their meaning', async () => {
    const r = await fetch(`${server.url}/api/test/missing`, { headers: auth });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'no actor abc' });
  });

  it('given plugins sit behind the security hook and appear in the route table', async () => {
    expect((await fetch(`${server.url}/api/test/missing`)).status).toBe(401);
    const routes = await (await fetch(`${server.url}/api/routes`, { headers: auth })).json() as { method: string; url: string }[];
    expect(routes).toContainEqual({ method: 'POST', url: '/api/test/echo' });
    expect(routes).toContainEqual({ method: 'GET', url: '/api/healthz' });
  });

  it('bodies within the limit are parsed; larger ones are refused with 413 before parsing', async () => {
    const ok = await fetch(`${server.url}/api/test/echo`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await ok.json()).toEqual({ got: { a: 1 } });
    const big = await fetch(`${server.url}/api/test/echo`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{' + 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect((await big.json() as { error: string }).error).toContain('4096 bytes');
    const badJson = await fetch(`${server.url}/api/test/echo`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{nope' });
    expect(badJson.status).toBe(400);
  });

  it('never logs the token, the Authorization header or the cookie', async () => {
    await fetch(`${server.url}/api/version`, { headers: auth });
    await fetch(`${server.url}/api/version`, { headers: { authorization: `Bearer ${'0'.repeat(64)}` } });
    const login = await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    await fetch(`${server.url}/api/version`, { headers: { cookie } });
    await fetch(`${server.url}/api/test/boom`, { headers: { cookie } });
    const text = log();
    expect(text).toContain('"msg":"request"');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(cookie.split('=')[1]);
    expect(text.toLowerCase()).not.toContain('authorization');
  });

  it('stop() closes the port', async () => {
    const url = server.url;
    await server.stop();
    await expect(fetch(`${url}/api/healthz`)).rejects.toThrow();
    server = await startDashboard({
      host: '127.0.0.1', port: 0, advertiseHost: '127.0.0.1', token: TOKEN, clusterId: 'c', logger,
      config: { dashboardBodyLimitBytes: 4096, dashboardSessionTtlS: 60, authFailureLogIntervalMs: 0, jobPackageMaxBytes: 1 << 20 }, routes: [],
    });
  });
});
