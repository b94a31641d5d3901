/**
 * How `rayts start --head` runs the head's HTTP API: its flags (--include-dashboard, --dashboard-port,
 * --dashboard-host), the checks before anything starts, the warning for plain HTTP off loopback, a
 * restarted head taking its previous port again; and the CLI's API client finding it through the
 * local session, the GCS kv or a URL.
 */
import { describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, pollUntil, type HeadReady } from '@rayts/common';
import { ApiClient } from '@rayts/cli/api_client';
import { apiClientFor, resolveApiTarget } from '@rayts/cli/api_target';
import { ApiError, ApiUnreachableError, DashboardDisabledError } from '@rayts/cli/errors';
import { alive, listeningPorts, readJsonFile, useCluster } from '../helpers/cluster.js';
import { http } from '../helpers/http.js';

const newCluster = useCluster();

function portOf(address: string): number {
  return Number(address.split(':').pop());
}

function listen(host: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ host, port: 0 }, () => resolve(server));
  });
}

describe('rayts start --head and the HTTP API', () => {
  it('serves the API beside the GCS, publishes its URL, and the API client finds it three ways', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const url = head.dashboardUrl!;
    const dashboardPort = Number(new URL(url).port);
    // The GCS, the HTTP API and the remote-driver port (rayts://), nothing else.
    const clientPort = readJsonFile<HeadReady>(join(head.sessionDir, 'head.json')).clientPort!;
    expect(listeningPorts(head.headPid!)).toEqual([portOf(head.gcsAddress), dashboardPort, clientPort].sort((a, b) => a - b));
    expect(head.result.stdout).toContain('To monitor and debug rayts, open the dashboard in a browser (log in with the token `rayts get-auth-token` prints) or use its HTTP API at');
    expect(head.result.stdout).toContain(`RAYTS_API_SERVER_ADDRESS='${head.dashboardUrl}' rayts job submit --working-dir . -- node main.js`);
    expect(head.result.stdout).toContain(`    ${url}\n`);
    expect(head.result.stderr).not.toContain('plain HTTP');

    const config = loadConfig(cluster.env);
    const tokenFile = join(head.tempDir, 'state', 'token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    // 1. The local session (its head.json).
    const local = await resolveApiTarget({ tempDir: head.tempDir }, config, cluster.env);
    expect(local).toMatchObject({ baseUrl: url, token });
    // 2. A GCS address and no local session: the head's kv has the URL.
    const viaGcs = await resolveApiTarget({ address: head.gcsAddress, tempDir: cluster.tempDir('elsewhere'), tokenFile }, config, cluster.env);
    expect(viaGcs.baseUrl).toBe(url);
    // 3. The URL itself (in RAYTS_API_SERVER_ADDRESS), its token found through the local session.
    const viaUrl = await resolveApiTarget({ tempDir: head.tempDir }, config, { ...cluster.env, RAYTS_API_SERVER_ADDRESS: `${url}/` });
    expect(viaUrl).toMatchObject({ baseUrl: url, token });
    await expect(resolveApiTarget({ tempDir: head.tempDir }, config, { ...cluster.env, RAYTS_API_SERVER_ADDRESS: '127.0.0.1:8265' }))
      .rejects.toMatchObject({ exitCode: 2 });

    const client = apiClientFor(local, config);
    const status = await cluster.statusJson(head.tempDir);
    expect(await client.get('/api/version')).toMatchObject({ clusterId: status.clusterId });
    expect(await client.get('/api/healthz', { probe: 1 })).toEqual({ status: 'ok' });
    expect(await client.post('/api/logout')).toEqual({ ok: true });
    const missing = await client.delete('/api/nothing').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, serverMessage: 'no route DELETE /api/nothing' });
    const wrong = await new ApiClient({ baseUrl: url, token: '0'.repeat(64) }).get('/api/version').catch((e: unknown) => e);
    expect(wrong).toMatchObject({ status: 401, serverMessage: 'wrong cluster token', exitCode: 1 });
    expect((wrong as ApiError).hint).toContain('get-auth-token');

    // A head restarted on this session takes its previous dashboard port again.
    process.kill(head.headPid!, 'SIGKILL');
    expect(await pollUntil(() => !alive(head.headPid!), 5000)).toBe(true);
    const down = await client.get('/api/version').catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ApiUnreachableError);
    expect((down as ApiUnreachableError).exitCode).toBe(3);
    const restart = await cluster.rayts(['start', '--head', `--port=${portOf(head.gcsAddress)}`, '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`]);
    expect(restart.code, restart.stderr).toBe(0);
    const again = readJsonFile<HeadReady>(join(head.sessionDir, 'head.json'));
    expect(again.dashboardUrl).toBe(url);
    expect(listeningPorts(again.pid)).toContain(dashboardPort);
    expect(await client.get('/api/version')).toMatchObject({ clusterId: status.clusterId });
  });

  it('--include-dashboard=false: no HTTP port, the next steps say so, and the API client says so (exit 3)', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1, args: ['--include-dashboard=false'] });
    expect(head.dashboardUrl).toBeUndefined();
    const clientPort = readJsonFile<HeadReady>(join(head.sessionDir, 'head.json')).clientPort!;
    expect(listeningPorts(head.headPid!)).toEqual([portOf(head.gcsAddress), clientPort].sort((a, b) => a - b));
    expect(head.result.stdout).toContain('The dashboard is off (--include-dashboard=false): no HTTP API listens on this head.');
    expect(head.result.stdout).not.toContain('To monitor and debug rayts');
    expect(head.result.stdout).not.toContain('rayts job submit');
    expect(existsSync(join(head.sessionDir, 'logs', 'dashboard.log'))).toBe(false);

    const config = loadConfig(cluster.env);
    const tokenFile = join(head.tempDir, 'state', 'token');
    for (const options of [{ tempDir: head.tempDir }, { address: head.gcsAddress, tempDir: cluster.tempDir('elsewhere'), tokenFile }]) {
      const err = await resolveApiTarget(options, config, cluster.env).catch((e: unknown) => e);
      expect(err, JSON.stringify(options)).toBeInstanceOf(DashboardDisabledError);
      expect((err as DashboardDisabledError).exitCode).toBe(3);
      expect((err as Error).message).toContain('runs without its dashboard');
    }
  });

  it('checks the dashboard flags before anything starts', async () => {
    const cluster = newCluster();
    const taken = await listen('127.0.0.1');
    try {
      const port = (taken.address() as { port: number }).port;
      const r = await cluster.rayts(['start', '--head', '--port=0', `--dashboard-port=${port}`, '--node-ip-address=127.0.0.1', `--temp-dir=${cluster.tempDir('h')}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`dashboard port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toContain('--dashboard-port');
      expect(existsSync(join(cluster.tempDir('h'), 'session_latest'))).toBe(false);
      expect(cluster.processes()).toEqual([]);
    } finally {
      taken.close();
    }
    for (const [args, needle] of [
      [['--include-dashboard=maybe'], 'expected true or false'],
      [['--include-dashboard'], 'argument missing'],
      [['--dashboard-port=70000'], '--dashboard-port must be a port number'],
      [['--dashboard-host=not a host'], '--dashboard-host must be an address'],
    ] as const) {
      const r = await cluster.rayts(['start', '--head', '--port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${cluster.tempDir('h')}`, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(needle);
    }
    const worker = await cluster.rayts(['start', '--address=127.0.0.1:1', '--dashboard-port=0', `--temp-dir=${cluster.tempDir('w')}`]);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain('--dashboard-port is only for the head');
    expect(cluster.processes()).toEqual([]);
  });

  it('--dashboard-host=0.0.0.0 without TLS warns in one line, and still checks every Host', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1, args: ['--dashboard-host=0.0.0.0'] });
    const warnings = head.result.stderr.split('\n').filter((l) => l.includes('plain HTTP'));
    expect(warnings).toEqual(['Warning: the dashboard listens on 0.0.0.0 over plain HTTP, so the cluster token travels in clear text; '
      + 'turn on TLS (--tls-cert/--tls-key/--tls-ca) or keep it on 127.0.0.1 and use an SSH tunnel.']);
    expect(readFileSync(join(head.sessionDir, 'logs', 'dashboard.log'), 'utf8')).toMatch(/"level":"warn".*over plain HTTP/);
    // The URL names the node's address, not 0.0.0.0.
    const url = head.dashboardUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = new URL(url).port;
    for (const host of [`127.0.0.1:${port}`, `127.0.0.2:${port}`, `localhost:${port}`]) {
      expect((await http(url, '/api/healthz', { headers: { host } })).status, host).toBe(200);
    }
    expect((await http(`http://127.0.0.2:${port}`, '/api/healthz')).status).toBe(200);
    for (const host of ['attacker.example', `attacker.example:${port}`, `8.8.8.8:${port}`]) {
      expect((await http(url, '/api/healthz', { headers: { host } })).status, host).toBe(421);
    }
  });
});
