/**
 * Optional mutual TLS between real daemons: a cluster started with certificates serves TLS clients
 * and gives plaintext ones no answer (the head's HTTP API included: HTTPS with the cluster's
 * certificate); half a TLS configuration is refused.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { request } from 'node:https';
import { METRICS_DISCOVERY_FILE, type FileSdGroup } from '@rayts/gcs';
import { readJsonFile, useCluster } from '../helpers/cluster.js';
import { hasOpenssl, makeCertificates } from '../helpers/tls.js';
import { callRaw, methodsOf } from '../helpers/raw_grpc.js';
import { http } from '../helpers/http.js';
import { loadConfig, type RayletReady } from '@rayts/common';
import { ApiClient } from '@rayts/cli/api_client';
import { apiClientFor, resolveApiTarget } from '@rayts/cli/api_target';
import { ApiTlsError, ApiUnreachableError } from '@rayts/cli/errors';

const newCluster = useCluster();

/** GET over HTTPS trusting only `ca`, with the cluster token. */
function httpsGet(url: string, ca: Buffer, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('mutual TLS', () => {
  it.skipIf(!hasOpenssl)('a cluster started with TLS works for TLS clients and refuses plaintext ones', async () => {
    const cluster = newCluster();
    const tls = makeCertificates(cluster.root);
    const env = { RAYTS_TLS_CERT: tls.cert, RAYTS_TLS_KEY: tls.key, RAYTS_TLS_CA: tls.ca };
    const head = await cluster.startHead({ numCpus: 1, args: [`--tls-cert=${tls.cert}`, `--tls-key=${tls.key}`, `--tls-ca=${tls.ca}`] });
    await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1, env });
    const status = await cluster.rayts(['status', '--json', `--temp-dir=${head.tempDir}`], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).nodes.active).toHaveLength(2);
    // A plaintext client (even with the right token) gets no answer from a TLS server.
    const token = readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim();
    const plain = await callRaw(head.gcsAddress, methodsOf(['ClusterService'])[0]!, token);
    expect(plain.code).toBe(grpc.status.UNAVAILABLE);
    const noTls = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
    expect(noTls.code).toBe(3);

    // The head's HTTP API speaks HTTPS with the cluster's certificate, and nothing else.
    const url = head.dashboardUrl!;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(tls.ca);
    expect((await http(url, '/api/healthz', { ca })).json).toEqual({ status: 'ok' });
    expect((await http(url, '/api/version', { ca })).status).toBe(401);
    await expect(http(url.replace('https:', 'http:'), '/api/healthz')).rejects.toThrow();
    // A client without the CA does not trust it.
    await expect(http(url, '/api/healthz')).rejects.toThrow(/certificate/);
    // The login cookie is Secure over HTTPS.
    const login = await http(url, '/api/login', { ca, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect([login.headers['set-cookie'] ?? []].flat()[0]).toMatch(/; Secure/);
    // The CLI's API client finds it (https, from the local session) and verifies it with the CA.
    const config = loadConfig(cluster.env);
    const target = await resolveApiTarget({ tempDir: head.tempDir }, config, { ...cluster.env, ...env });
    expect(target.baseUrl).toBe(url);
    expect(await apiClientFor(target, config).get('/api/version')).toMatchObject({ clusterId: JSON.parse(status.stdout).clusterId });
    const untrusted = await new ApiClient({ baseUrl: url, token }).get('/api/version').catch((e: unknown) => e);
    expect(untrusted).toBeInstanceOf(ApiTlsError);
    expect((untrusted as Error).message).toContain('cannot verify the TLS certificate');
    const plainClient = await new ApiClient({ baseUrl: url.replace('https:', 'http:'), token }).get('/api/version').catch((e: unknown) => e);
    expect(plainClient).toBeInstanceOf(ApiUnreachableError);
    expect((plainClient as ApiUnreachableError).hint).toContain('https://');
    // The raylets' metrics endpoints serve HTTPS with the cluster certificate, and say so to Prometheus.
    const raylet = readJsonFile<RayletReady>(join(head.sessionDir, 'raylet.json'));
    const scrape = await httpsGet(`https://127.0.0.1:${raylet.metricsExportPort}/metrics`, readFileSync(tls.ca), token);
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain('rayts_object_store_capacity_bytes');
    await expect(fetch(`http://127.0.0.1:${raylet.metricsExportPort}/metrics`)).rejects.toThrow();
    const discovery = JSON.parse(readFileSync(join(head.tempDir, METRICS_DISCOVERY_FILE), 'utf8')) as FileSdGroup[];
    expect(discovery.every((g) => g.labels.__scheme__ === 'https')).toBe(true);
  });

  it('refuses half a TLS configuration', async () => {
    const cluster = newCluster();
    const r = await cluster.rayts(['start', '--head', '--dashboard-port=0', '--tls-cert=/x.pem', `--temp-dir=${cluster.tempDir('h')}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('needs all three');
  });
});
