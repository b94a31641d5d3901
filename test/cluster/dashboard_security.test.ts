/**
 * The head's HTTP API on a real head: every route in its own route table refuses missing, wrong and
 * malformed credentials (healthz, the session check and the web page's files excepted) and foreign Host headers (healthz included); the login
 * cookie is HttpOnly and SameSite=Strict, authorizes reads, cannot make cross-site changes and dies
 * at logout; bodies over the limit get 413 unparsed; the token shows in no log or state file.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useCluster, type StartedNode } from '../helpers/cluster.js';
import { concretePath, http, type HttpAnswer } from '../helpers/http.js';

const newCluster = useCluster();

const PUBLIC = new Set(['GET /api/healthz', 'HEAD /api/healthz', 'POST /api/login', 'GET /api/session',
  // The web page's files hold no data: the login page must load without the token.
  'GET /', 'HEAD /', 'GET /assets/:name', 'HEAD /assets/:name']);
/** What a public route answers a client without valid credentials. */
const PUBLIC_STATUS: Record<string, number> = {
  'POST /api/login': 400, // login reads the token from its body (none here)
  'GET /assets/:name': 404, 'HEAD /assets/:name': 404, // no asset is named x
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

function tokenOf(head: StartedNode): string {
  return readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim();
}

/** The JSON error body every refusal carries (HEAD answers carry none). */
function expectJsonError(r: HttpAnswer, method: string, what: string): void {
  if (method === 'HEAD') return;
  expect(r.headers['content-type'], what).toMatch(/^application\/json/);
  expect(typeof (r.json as { error?: unknown })?.error, `${what}: ${r.text}`).toBe('string');
}

describe('dashboard security', () => {
  it('every route refuses missing, wrong and malformed credentials, and every route refuses a foreign Host', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const url = head.dashboardUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(url).port);
    const token = tokenOf(head);
    const bearer = { authorization: `Bearer ${token}` };

    const health = await http(url, '/api/healthz');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });

    const table = await http(url, '/api/routes', { headers: bearer });
    expect(table.status).toBe(200);
    const routes = table.json as { method: string; url: string }[];
    for (const r of ['GET /api/healthz', 'GET /api/version', 'GET /api/routes', 'POST /api/login', 'POST /api/logout']) {
      expect(routes.map((x) => `${x.method} ${x.url}`)).toContain(r);
    }
    const version = await http(url, '/api/version', { headers: bearer });
    expect(version.json).toMatchObject({ version: expect.any(String), protocolVersion: expect.any(Number), clusterId: expect.stringMatching(/^[0-9a-f]+$/) });

    const badCredentials: [string, Record<string, string>][] = [
      ['no credentials', {}],
      ['a wrong token of the same length', { authorization: `Bearer ${'0'.repeat(token.length)}` }],
      ['a wrong token of another length', { authorization: `Bearer ${token.slice(0, 20)}` }],
      ['a longer token that starts with the right one', { authorization: `Bearer ${token}00` }],
      ['the token without "Bearer"', { authorization: token }],
      ['a Basic header', { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` }],
      ['"Bearer" alone', { authorization: 'Bearer' }],
      ['two words after Bearer', { authorization: `Bearer ${token} ${token}` }],
      ['a forged session cookie', { cookie: `rayts_session=v1.${Date.now()}.${'A'.repeat(43)}` }],
      ['the token as the cookie', { cookie: `rayts_session=${token}` }],
    ];
    for (const route of routes) {
      const path = concretePath(route.url);
      const key = `${route.method} ${route.url}`;
      for (const [what, headers] of badCredentials) {
        const r = await http(url, path, { method: route.method, headers });
        if (PUBLIC.has(key)) {
          expect(r.status, `${key} with ${what}`).toBe(PUBLIC_STATUS[key] ?? 200);
        } else {
          expect(r.status, `${key} with ${what}`).toBe(401);
          expectJsonError(r, route.method, `${key} with ${what}`);
        }
      }
      // A foreign Host is refused on every route, healthz included, even with the right token.
      for (const host of ['attacker.example', `attacker.example:${port}`, `127.0.0.1:${port + 1}`]) {
        const r = await http(url, path, { method: route.method, headers: { ...bearer, host } });
        expect(r.status, `${key} with Host: ${host}`).toBe(421);
        expectJsonError(r, route.method, `${key} with Host: ${host}`);
      }
      expect((await http(url, path, { method: route.method, headers: { ...bearer, host: `localhost:${port}` } })).status, `${key} via localhost`).not.toBe(421);
    }
    // Login: a wrong token in the body is 401, a body that is not {token} is 400.
    const json = { 'content-type': 'application/json' };
    expect((await http(url, '/api/login', { method: 'POST', headers: json, body: JSON.stringify({ token: '0'.repeat(64) }) })).status).toBe(401);
    expect((await http(url, '/api/login', { method: 'POST', headers: json, body: JSON.stringify({ token: token.slice(0, 10) }) })).status).toBe(401);
    expect((await http(url, '/api/login', { method: 'POST', headers: json, body: '{"tok":1}' })).status).toBe(400);
    // Unknown routes: 401 before authentication (the table cannot be probed), 404 JSON after.
    for (const [method, path] of [['GET', '/api/no-such-route'], ['GET', '/index.html'], ['DELETE', '/api/version'], ['POST', '/api/healthz']]) {
      const anon = await http(url, path!, { method });
      expect(anon.status, `${method} ${path} without a token`).toBe(401);
      const known = await http(url, path!, { method, headers: bearer });
      expect(known.status, `${method} ${path} with the token`).toBe(404);
      expectJsonError(known, method!, `${method} ${path}`);
    }
  });

  it('login cookie: HttpOnly and SameSite=Strict, authorizes reads, no cross-site changes, gone after logout; bodies over the limit get 413 unparsed', async () => {
    const cluster = newCluster({ RAYTS_DASHBOARD_BODY_LIMIT_BYTES: '4096' });
    const head = await cluster.startHead({ numCpus: 1 });
    const url = head.dashboardUrl!;
    const own = new URL(url).origin;
    const token = tokenOf(head);
    const json = { 'content-type': 'application/json' };

    const login = await http(url, '/api/login', { method: 'POST', headers: { ...json, origin: own }, body: JSON.stringify({ token }) });
    expect(login.status).toBe(200);
    const setCookie = [login.headers['set-cookie'] ?? []].flat();
    expect(setCookie).toHaveLength(1);
    const attributes = setCookie[0]!.split(';').map((s) => s.trim());
    expect(attributes).toContain('HttpOnly');
    expect(attributes).toContain('SameSite=Strict');
    expect(attributes).toContain('Path=/');
    expect(attributes).not.toContain('Secure');
    const cookie = attributes[0]!;
    expect(cookie).toMatch(/^rayts_session=/);
    expect(cookie).not.toContain(token);
    expect(cookie).not.toContain(token.slice(0, 16));

    // The cookie authorizes a read, with or without an Origin.
    expect((await http(url, '/api/version', { headers: { cookie } })).status).toBe(200);
    expect((await http(url, '/api/routes', { headers: { cookie, origin: 'http://attacker.example' } })).status).toBe(200);

    // Cross-site state changes are refused even with a valid cookie (and with the token).
    const crossSite: Record<string, string>[] = [
      { cookie, origin: 'http://attacker.example' },
      { cookie, origin: 'null' },
      { cookie, origin: own, 'sec-fetch-site': 'cross-site' },
      { cookie },
      { authorization: `Bearer ${token}`, origin: 'http://attacker.example' },
    ];
    for (const headers of crossSite) {
      const r = await http(url, '/api/logout', { method: 'POST', headers });
      expect(r.status, JSON.stringify({ ...headers, cookie: headers.cookie && 'valid', authorization: headers.authorization && 'valid' })).toBe(403);
      expectJsonError(r, 'POST', 'cross-site logout');
    }
    // So is a cross-site login (login CSRF).
    expect((await http(url, '/api/login', { method: 'POST', headers: { ...json, origin: 'http://attacker.example' }, body: JSON.stringify({ token }) })).status).toBe(403);
    // The cookie still works: none of those logged it out.
    expect((await http(url, '/api/version', { headers: { cookie } })).status).toBe(200);

    // Body limits: over the limit is 413 even when the body is not JSON (it was never parsed).
    const bearer = { authorization: `Bearer ${token}` };
    const junk = '{' + 'x'.repeat(8192);
    const tooBig = await http(url, '/api/logout', { method: 'POST', headers: { ...bearer, ...json }, body: junk });
    expect(tooBig.status).toBe(413);
    expectJsonError(tooBig, 'POST', 'body too large');
    expect((await http(url, '/api/logout', { method: 'POST', headers: { ...bearer, ...json }, body: '{x' })).status).toBe(400);
    // Login takes at most 1 KiB, whatever the API's limit.
    expect((await http(url, '/api/login', { method: 'POST', headers: json, body: JSON.stringify({ token, pad: 'p'.repeat(2000) }) })).status).toBe(413);
    // Without credentials a large body is refused with 401 before it is read.
    expect((await http(url, '/api/logout', { method: 'POST', headers: json, body: junk })).status).toBe(401);

    // Logout (same origin) clears the cookie, and that cookie is refused from now on.
    const logout = await http(url, '/api/logout', { method: 'POST', headers: { cookie, origin: own } });
    expect(logout.status).toBe(200);
    const cleared = [logout.headers['set-cookie'] ?? []].flat()[0] ?? '';
    expect(cleared).toMatch(/^rayts_session=;/);
    expect(cleared).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    expect((await http(url, '/api/version', { headers: { cookie } })).status).toBe(401);

    // The token is in no log file and in no state file but the token file itself.
    const files = [...filesUnder(join(head.sessionDir, 'logs')), ...filesUnder(join(head.tempDir, 'state')).filter((f) => !f.endsWith('/token'))];
    expect(files.some((f) => f.endsWith('dashboard.log'))).toBe(true);
    for (const f of files) expect(readFileSync(f).includes(token), f).toBe(false);
    const log = readFileSync(join(head.sessionDir, 'logs', 'dashboard.log'), 'utf8');
    expect(log).toContain('"msg":"refused a request"');
    expect(log).not.toContain(cookie.split('=')[1]!);
  });
});
