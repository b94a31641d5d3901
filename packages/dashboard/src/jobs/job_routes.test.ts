/**
 * The jobs REST routes over an in-memory JobApi and node log services, inside the whole server (so
 * the security hook applies): validation messages, status codes, Ray's shapes, the driver log whole
 * and followed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { FileLogger, packageUri } from '@rayts/common';
import { createDashboardApp } from '../server.js';
import { jobRoutes } from './job_routes.js';
import { MemoryJobs, MemoryNodeLogs, memorySources } from './fakes.test_helper.js';
import type { JobDetailsJson } from './job_json.js';

const TOKEN = '7a'.repeat(32);
const URI = packageUri('ab'.repeat(32));

let dir: string;
let logger: FileLogger;
let app: FastifyInstance;
let jobs: MemoryJobs;
let logs: MemoryNodeLogs;
let nodes: Record<string, { live: boolean; logs: MemoryNodeLogs }>;
let host: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rayts-job-routes-'));
  logger = new FileLogger({ path: join(dir, 'dashboard.log'), component: 'dashboard', level: 'debug' });
  jobs = new MemoryJobs();
  logs = new MemoryNodeLogs();
  nodes = { n1: { live: true, logs } };
  app = await createDashboardApp({
    host: '127.0.0.1', port: 0, advertiseHost: '127.0.0.1', token: TOKEN, clusterId: 'c'.repeat(56), logger, sessionName: 'session_x',
    config: { dashboardBodyLimitBytes: 4096, dashboardSessionTtlS: 60, authFailureLogIntervalMs: 0, jobPackageMaxBytes: 1 << 20 },
    routes: [jobRoutes({ jobs, sources: memorySources(nodes), tailPollMs: 10 })],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  host = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await app.close();
  logger.close();
  rmSync(dir, { recursive: true, force: true });
});

function call(method: InjectOptions['method'], url: string, body?: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method, url, headers: { host, authorization: `Bearer ${TOKEN}`, ...headers }, ...(body === undefined ? {} : { payload: body as object }) });
}

const submitOk = async (body: Record<string, unknown>) => {
  const r = await call('POST', '/api/jobs/', body);
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { job_id: string; submission_id: string };
};

describe('POST /api/jobs/', () => {
  it('submits with every field, in Ray\'s names; answers the submission id under both names', async () => {
    const reply = await submitOk({
      entrypoint: 'node main.mjs', submission_id: 'my-job_1', runtime_env: { working_dir: URI, env_vars: { A: '1' } }, metadata: { owner: 'ops' },
      entrypoint_num_cpus: 1.5, entrypoint_num_gpus: 0, entrypoint_memory: 1024, entrypoint_resources: { ssd: 1 },
    });
    expect(reply).toEqual({ job_id: 'my-job_1', submission_id: 'my-job_1' });
    expect(jobs.submitted[0]).toEqual({
      entrypoint: 'node main.mjs', submissionId: 'my-job_1', runtimeEnv: { working_dir: URI, env_vars: { A: '1' } }, metadata: { owner: 'ops' },
      entrypointNumCpus: 1.5, entrypointNumGpus: 0, entrypointMemory: 1024, entrypointResources: { ssd: 1 },
    });
  });

  it('fills defaults; the id comes from the head; job_id is the deprecated name of submission_id; the path without slash works too', async () => {
    const generated = await submitOk({ entrypoint: 'true' });
    expect(generated.submission_id).toMatch(/^raysubmit_/);
    expect(jobs.submitted[0]).toMatchObject({ runtimeEnv: {}, metadata: {}, entrypointNumCpus: 0, entrypointResources: {} });
    expect(jobs.submitted[0]!.submissionId).toBeUndefined();
    expect((await submitOk({ entrypoint: 'true', job_id: 'old-name' })).submission_id).toBe('old-name');
    const r = await call('POST', '/api/jobs', { entrypoint: 'true', submission_id: 'no-slash' });
    expect(r.json()).toEqual({ job_id: 'no-slash', submission_id: 'no-slash' });
  });

  const refusals: [string, unknown, RegExp][] = [
    ['no entrypoint', {}, /^entrypoint: must be a non-empty shell command/],
    ['an empty entrypoint', { entrypoint: '  ' }, /^entrypoint: must be a non-empty shell command/],
    ['an entrypoint that is not a string', { entrypoint: ['node', 'x'] }, /^entrypoint: must be a non-empty shell command/],
    ['a body that is not an object', [1, 2], /^the body must be a JSON object/],
    ['an unknown field', { entrypoint: 'x', entrypoint_num_cpu: 1 }, /^entrypoint_num_cpu: is not a field of a job submission/],
    ['a negative CPU count', { entrypoint: 'x', entrypoint_num_cpus: -1 }, /^entrypoint_num_cpus: must be a number ≥ 0/],
    ['a GPU count as text', { entrypoint: 'x', entrypoint_num_gpus: '1' }, /^entrypoint_num_gpus: must be a number ≥ 0/],
    ['fractional memory', { entrypoint: 'x', entrypoint_memory: 1.5 }, /^entrypoint_memory: must be a whole number of bytes/],
    ['resources that are not an object', { entrypoint: 'x', entrypoint_resources: 3 }, /^entrypoint_resources: must be an object/],
    ['a resource that is not a number', { entrypoint: 'x', entrypoint_resources: { ssd: 'one' } }, /^entrypoint_resources\.ssd: must be a number ≥ 0/],
    ['CPU among the resources', { entrypoint: 'x', entrypoint_resources: { CPU: 1 } }, /^entrypoint_resources\.CPU: use entrypoint_num_cpus/],
    ['metadata that is not strings', { entrypoint: 'x', metadata: { n: 1 } }, /^metadata\.n: must be a string/],
    ['metadata that is a list', { entrypoint: 'x', metadata: ['a'] }, /^metadata: must be an object/],
    ['a submission id with a slash', { entrypoint: 'x', submission_id: '../x' }, /^submission_id: '\.\.\/x' is not a submission id/],
    ['a submission id that is a number', { entrypoint: 'x', submission_id: 5 }, /^submission_id: must be a string/],
    ['job_id and submission_id that differ', { entrypoint: 'x', submission_id: 'a', job_id: 'b' }, /^job_id: 'b' differs from submission_id 'a'/],
    ['a local working_dir', { entrypoint: 'x', runtime_env: { working_dir: './app' } }, /^runtime_env\.working_dir: '\.\/app' is not a package URI/],
    ['a Python runtime env field', { entrypoint: 'x', runtime_env: { pip: ['requests'] } }, /^runtime_env\.pip: is a Python environment field/],
    ['a bad env var', { entrypoint: 'x', runtime_env: { env_vars: { A: 1 } } }, /^runtime_env\.env_vars\.A: must be a string/],
  ];
  for (const [what, body, message] of refusals) {
    it(`refuses ${what} with a 400 naming the field`, async () => {
      const r = await call('POST', '/api/jobs/', body);
      expect(r.statusCode, r.body).toBe(400);
      expect((r.json() as { error: string }).error).toMatch(message);
      expect(jobs.submitted).toEqual([]);
    });
  }

  it('a taken submission id is a 409; a package the head does not have is a 400 naming working_dir', async () => {
    await submitOk({ entrypoint: 'x', submission_id: 'once' });
    const again = await call('POST', '/api/jobs/', { entrypoint: 'x', submission_id: 'once' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: 'job with submission id once already exists' });
    const withPackages = new MemoryJobs({ maxBytes: 1, info: () => ({ exists: false, size: 0 }), put: async () => ({ size: 0, existed: false }) });
    await app.close();
    app = await createDashboardApp({
      host: '127.0.0.1', port: 0, advertiseHost: '127.0.0.1', token: TOKEN, clusterId: 'c', logger,
      config: { dashboardBodyLimitBytes: 4096, dashboardSessionTtlS: 60, authFailureLogIntervalMs: 0, jobPackageMaxBytes: 1 },
      routes: [jobRoutes({ jobs: withPackages, sources: memorySources(nodes) })],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    host = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const missing = await call('POST', '/api/jobs/', { entrypoint: 'x', runtime_env: { working_dir: URI } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: `runtime_env.working_dir: package ${URI} is not on the head` });
  });

  it('a body over the server\'s limit is still a 413 (the jobs routes keep the general body limit)', async () => {
    const r = await call('POST', '/api/jobs/', { entrypoint: 'x'.repeat(5000) });
    expect(r.statusCode).toBe(413);
  });
});

describe('the security hook guards the job routes', () => {
  it('no token → 401, a foreign Host → 421, a cross-site POST → 403; nothing reaches the JobApi', async () => {
    const noToken = await app.inject({ method: 'POST', url: '/api/jobs/', headers: { host }, payload: { entrypoint: 'x' } });
    expect(noToken.statusCode).toBe(401);
    const list = await app.inject({ method: 'GET', url: '/api/jobs/', headers: { host } });
    expect(list.statusCode).toBe(401);
    const rebound = await call('POST', '/api/jobs/', { entrypoint: 'x' }, { host: `evil.example:${host.split(':')[1]}` });
    expect(rebound.statusCode).toBe(421);
    const crossSite = await call('POST', '/api/jobs/', { entrypoint: 'x' }, { origin: 'https://evil.example' });
    expect(crossSite.statusCode).toBe(403);
    const stop = await call('POST', '/api/jobs/x/stop', undefined, { 'sec-fetch-site': 'cross-site' });
    expect(stop.statusCode).toBe(403);
    expect(jobs.submitted).toEqual([]);
    expect(jobs.stopped).toEqual([]);
  });
});

describe('GET /api/jobs/ and /api/jobs/:id', () => {
  it('JobDetails in Ray\'s fields; by submission id or driver job id; 404 names the id', async () => {
    await submitOk({ entrypoint: 'node a.mjs', submission_id: 'a', metadata: { k: 'v' } });
    jobs.update('a', { status: 'SUCCEEDED', jobId: '01000000', driverPid: 4242, driverNodeId: 'n1', driverNodeIp: '10.0.0.1', driverExitCode: 0, endTimeMs: 1_700_000_005_000 });
    jobs.addDriver('02000000');
    const one = (await call('GET', '/api/jobs/a')).json() as JobDetailsJson;
    expect(one).toEqual({
      type: 'SUBMISSION', job_id: '01000000', submission_id: 'a', driver_info: { id: '01000000', node_ip_address: '10.0.0.1', pid: '4242' },
      status: 'SUCCEEDED', entrypoint: 'node a.mjs', message: 'Job is pending', error_type: null, start_time: 1_700_000_000_000, end_time: 1_700_000_005_000,
      metadata: { k: 'v' }, runtime_env: {}, driver_agent_http_address: null, driver_node_id: 'n1', driver_exit_code: 0,
      entrypoint_num_cpus: 0, entrypoint_num_gpus: 0, entrypoint_memory: 0, entrypoint_resources: {},
    });
    const all = (await call('GET', '/api/jobs/')).json() as JobDetailsJson[];
    expect(all.map((j) => [j.type, j.submission_id, j.job_id])).toEqual([['SUBMISSION', 'a', '01000000'], ['DRIVER', null, '02000000']]);
    expect((await call('GET', '/api/jobs/02000000')).json()).toMatchObject({ type: 'DRIVER', status: 'RUNNING' });
    await submitOk({ entrypoint: 'x', submission_id: 'pending' });
    expect((await call('GET', '/api/jobs/pending')).json()).toMatchObject({ driver_info: null, end_time: null, job_id: null });
    const missing = await call('GET', '/api/jobs/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'job with id=nope not found' });
  });
});

describe('stop and delete', () => {
  it('stop answers whether the job was still running; unknown → 404; a driver job → 400', async () => {
    await submitOk({ entrypoint: 'x', submission_id: 's' });
    expect((await call('POST', '/api/jobs/s/stop')).json()).toEqual({ stopped: true });
    jobs.update('s', { status: 'STOPPED' });
    expect((await call('POST', '/api/jobs/s/stop')).json()).toEqual({ stopped: false });
    expect((await call('POST', '/api/jobs/nope/stop')).statusCode).toBe(404);
    jobs.addDriver('03000000');
    const driver = await call('POST', '/api/jobs/03000000/stop');
    expect(driver.statusCode).toBe(400);
    expect(driver.json()).toMatchObject({ error: expect.stringContaining('only submitted jobs can be stopped') });
  });

  it('delete only a terminal job (400 naming its status), then it is gone', async () => {
    await submitOk({ entrypoint: 'x', submission_id: 'd' });
    jobs.update('d', { status: 'RUNNING' });
    const running = await call('DELETE', '/api/jobs/d');
    expect(running.statusCode).toBe(400);
    expect(running.json()).toMatchObject({ error: expect.stringContaining('job d is RUNNING: only a finished job'), hint: 'stop it first: rayts job stop d' });
    jobs.update('d', { status: 'FAILED' });
    expect((await call('DELETE', '/api/jobs/d')).json()).toEqual({ deleted: true });
    expect((await call('GET', '/api/jobs/d')).statusCode).toBe(404);
    expect((await call('DELETE', '/api/jobs/d')).statusCode).toBe(404);
  });
});

describe('GET /api/jobs/:id/logs', () => {
  it('empty while the driver has no log; then the whole file from the driver\'s node', async () => {
    await submitOk({ entrypoint: 'x', submission_id: 'l' });
    expect((await call('GET', '/api/jobs/l/logs')).json()).toEqual({ logs: '' });
    jobs.logs.set('l', { nodeId: 'n1', fileName: 'job-driver-l.log' });
    expect((await call('GET', '/api/jobs/l/logs')).json()).toEqual({ logs: '' });
    logs.append('job-driver-l.log', 'line 1\n{"json": true}\n');
    expect((await call('GET', '/api/jobs/l/logs')).json()).toEqual({ logs: 'line 1\n{"json": true}\n' });
    expect((await call('GET', '/api/jobs/nope/logs')).statusCode).toBe(404);
  });

  it('a dead driver node is a 404 that says why', async () => {
    await submitOk({ entrypoint: 'x', submission_id: 'l' });
    jobs.logs.set('l', { nodeId: 'n1', fileName: 'job-driver-l.log' });
    nodes.n1!.live = false;
    const r = await call('GET', '/api/jobs/l/logs');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: 'the driver of job l ran on node n1, which is not alive: its log cannot be read' });
  });
});

/** GETs a streamed response over real HTTP, collecting what arrives. */
function streamGet(path: string) {
  let text = '';
  let status = 0;
  let request: ReturnType<typeof httpRequest> | undefined;
  const done = new Promise<void>((resolve, reject) => {
    request = httpRequest(`http://${host}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
  return { done, text: () => text, status: () => status, abort: () => request?.destroy() };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('GET /api/jobs/:id/logs/tail', () => {
  it('waits for the log, streams it as it grows, and ends once the job is terminal and the file drained', async () => {
    await submitOk({ entrypoint: 'x', submission_id: 't' });
    const tail = streamGet('/api/jobs/t/logs/tail');
    // The answer starts before the job has any log.
    await until('the response headers', () => tail.status() === 200);
    jobs.update('t', { status: 'RUNNING' });
    jobs.logs.set('t', { nodeId: 'n1', fileName: 'job-driver-t.log' });
    logs.append('job-driver-t.log', 'first\n');
    await until('the first line', () => tail.text() === 'first\n');
    logs.append('job-driver-t.log', 'second\n');
    await until('the second line', () => tail.text() === 'first\nsecond\n');
    // The driver's last words land in the file as the job ends: they are sent before the end.
    logs.append('job-driver-t.log', 'last\n');
    jobs.update('t', { status: 'SUCCEEDED' });
    await tail.done;
    expect([tail.status(), tail.text()]).toEqual([200, 'first\nsecond\nlast\n']);
    await until('the node stream to close', () => logs.openStreams === 0);
  });

  it('a job that ended without a log ends the response at once, empty; an unknown job is a 404', async () => {
    await submitOk({ entrypoint: 'x', submission_id: 'e' });
    jobs.update('e', { status: 'FAILED' });
    const tail = streamGet('/api/jobs/e/logs/tail');
    await tail.done;
    expect([tail.status(), tail.text()]).toEqual([200, '']);
    const unknown = await call('GET', '/api/jobs/nope/logs/tail');
    expect(unknown.statusCode).toBe(404);
  });

  it('a finished job\'s log is sent whole and the response ends', async () => {
    await submitOk({ entrypoint: 'x', submission_id: 'f' });
    jobs.logs.set('f', { nodeId: 'n1', fileName: 'job-driver-f.log' });
    logs.append('job-driver-f.log', 'x'.repeat(100_000));
    jobs.update('f', { status: 'SUCCEEDED' });
    const tail = streamGet('/api/jobs/f/logs/tail');
    await tail.done;
    expect(tail.text().length).toBe(100_000);
  });

  it('stops following when the client goes away or the driver\'s node dies', async () => {
    await submitOk({ entrypoint: 'x', submission_id: 'g' });
    jobs.update('g', { status: 'RUNNING' });
    jobs.logs.set('g', { nodeId: 'n1', fileName: 'job-driver-g.log' });
    logs.append('job-driver-g.log', 'running\n');
    const left = streamGet('/api/jobs/g/logs/tail');
    await until('the line', () => left.text() === 'running\n');
    left.abort();
    await left.done.catch(() => undefined);
    await until('the node stream to close after the client left', () => logs.openStreams === 0);

    const second = streamGet('/api/jobs/g/logs/tail');
    await until('the line again', () => second.text() === 'running\n');
    nodes.n1!.live = false;
    await second.done;
    expect(second.text()).toBe('running\n');
    await until('the node stream to close after the node died', () => logs.openStreams === 0);
  });
});
