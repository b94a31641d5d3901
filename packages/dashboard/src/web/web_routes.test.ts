/**
 * The web page's routes on a real server (127.0.0.1, port 0): index.html and hashed assets without
 * the token, gzip when accepted, the caching and CSP headers; the API still wants the token; a
 * missing build is a 503 that says how to build, and the API keeps working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { request } from 'node:http';
import { FileLogger } from '@rayts/common';
import { startDashboard, type RunningDashboard } from '../server.js';
import { WebAssets } from './web_assets.js';
import { webRoutes, CONTENT_SECURITY_POLICY } from './web_routes.js';

const TOKEN = '7a'.repeat(32);
let dir: string;
let logger: FileLogger;
let server: RunningDashboard | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
  logger?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(build: boolean): Promise<RunningDashboard> {
  dir = mkdtempSync(join(tmpdir(), 'rayts-web-test-'));
  const dist = join(dir, 'web-dist');
  if (build) {
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dist, 'index.html.gz'), gzipSync('<!doctype html><title>t</title>'));
    writeFileSync(join(dist, 'assets', 'app-ABC123.js'), 'console.log(1)');
    writeFileSync(join(dist, 'assets', 'app-ABC123.js.gz'), gzipSync('console.log(1)'));
    writeFileSync(join(dist, 'assets', 'app-DEF456.css'), 'body{}');
  }
  logger = new FileLogger({ path: join(dir, 'dashboard.log'), component: 'dashboard', level: 'debug' });
  server = await startDashboard({
    host: '127.0.0.1', port: 0, advertiseHost: '127.0.0.1', token: TOKEN, clusterId: 'c'.repeat(56), logger,
    config: { dashboardBodyLimitBytes: 4096, dashboardSessionTtlS: 60, authFailureLogIntervalMs: 0, jobPackageMaxBytes: 1 << 20 },
    routes: [webRoutes(new WebAssets(dist))],
  });
  return server;
}

/** A raw GET (fetch would undo the gzip). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

describe('web routes', () => {
  it('serves index.html (no-cache) and hashed assets (immutable) without the token, gzip when accepted, with the CSP', async () => {
    const { url } = await serve(true);
    const index = await get(`${url}/`, { 'accept-encoding': 'gzip, br' });
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(index.body).toString()).toContain('<title>t</title>');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');

    const js = await get(`${url}/assets/app-ABC123.js`);
    expect(js.status).toBe(200);
    expect(js.headers['content-encoding']).toBeUndefined();
    expect(js.body.toString()).toBe('console.log(1)');
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const css = await get(`${url}/assets/app-DEF456.css`, { 'accept-encoding': 'gzip' });
    expect([css.status, css.headers['content-encoding'], css.body.toString()]).toEqual([200, undefined, 'body{}']);

    const unknown = await get(`${url}/assets/nope.js`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString()).error).toContain('no web asset named nope.js');
    // The API behind the page still wants the token; a foreign Host is refused on the page too.
    expect((await get(`${url}/api/version`)).status).toBe(401);
    expect((await get(`${url}/`, { host: 'attacker.example' })).status).toBe(421);
  });

  it('without a build, GET / is a 503 that says how to build it, and the API keeps working', async () => {
    const { url } = await serve(false);
    const page = await get(`${url}/`);
    expect(page.status).toBe(503);
    const body = JSON.parse(page.body.toString()) as { error: string; hint: string };
    expect(body.error).toContain('web page is not built');
    expect(body.hint).toContain('npm run build:web');
    expect((await get(`${url}/api/version`, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(`${url}/api/session`)).body.toString()).toBe('{"authenticated":false}');
    expect((await get(`${url}/api/session`, { authorization: `Bearer ${TOKEN}` })).body.toString()).toBe('{"authenticated":true}');
  });
});
