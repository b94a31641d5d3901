/**
 * The CLI's jobs client against the real jobs and package routes, in process over HTTP on
 * 127.0.0.1 (the head's JobApi and PackageApi are in-memory fakes): a working_dir packed and
 * streamed up with its length, a submission, the log followed to the job's end, refusals mapped to
 * the CLI's exits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLogger, UsageError } from '@rayts/common';
import { createDashboardApp, jobRoutes, packageRoutes } from '@rayts/dashboard';
import { MemoryJobs, MemoryNodeLogs, MemoryPackages, memorySources } from '../../../dashboard/src/jobs/fakes.test_helper.js';
import { ApiClient } from '../api_client.js';
import { ApiError } from '../errors.js';
import { JobsClient } from './job_client.js';
import { uploadWorkingDir } from './working_dir.js';
import { MemoryOutput } from './jobs.test_helper.js';

const TOKEN = '9d'.repeat(32);
const LIMIT = 256 * 1024;

let dir: string;
let logger: FileLogger;
let app: Awaited<ReturnType<typeof createDashboardApp>>;
let packages: MemoryPackages;
let jobs: MemoryJobs;
let logs: MemoryNodeLogs;
let client: JobsClient;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rayts-job-client-'));
  logger = new FileLogger({ path: join(dir, 'dashboard.log'), component: 'dashboard', level: 'debug' });
  packages = new MemoryPackages(LIMIT);
  jobs = new MemoryJobs(packages);
  logs = new MemoryNodeLogs();
  app = await createDashboardApp({
    host: '127.0.0.1', port: 0, advertiseHost: '127.0.0.1', token: TOKEN, clusterId: 'c'.repeat(56), logger,
    config: { dashboardBodyLimitBytes: 4096, dashboardSessionTtlS: 60, authFailureLogIntervalMs: 0, jobPackageMaxBytes: LIMIT },
    routes: [jobRoutes({ jobs, sources: memorySources({ n1: { live: true, logs } }), tailPollMs: 10 }), packageRoutes({ packages })],
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  client = new JobsClient(new ApiClient({ baseUrl: address, token: TOKEN }));
  mkdirSync(join(dir, 'app', 'lib'), { recursive: true });
  writeFileSync(join(dir, 'app', 'main.mjs'), 'console.log("hi")\n');
  // Incompressible, so the packed size is close to it: over the general body limit, under the package limit.
  writeFileSync(join(dir, 'app', 'lib', 'data.bin'), randomBytes(64 * 1024));
});

afterEach(async () => {
  await app.close();
  logger.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('JobsClient over HTTP', () => {
  it('uploads a working_dir as a stream past the general body limit, then submits and follows the job to its end', async () => {
    expect((await client.version()).package_max_bytes).toBe(LIMIT);
    const output = new MemoryOutput();
    const uri = await uploadWorkingDir({ path: join(dir, 'app'), shown: 'app' }, undefined, { client, output, tmpDir: dir });
    expect(packages.stored.get(uri)!.length).toBeGreaterThan(4096);
    expect(output.stdout()).toContain(`Finished uploading package ${uri}.`);
    expect(await client.packageSize(uri)).toBe(packages.stored.get(uri)!.length);

    const { submission_id: id } = await client.submit({ entrypoint: 'node main.mjs', runtime_env: { working_dir: uri } });
    expect(jobs.submitted[0]!.runtimeEnv).toEqual({ working_dir: uri });
    jobs.update(id, { status: 'RUNNING' });
    jobs.logs.set(id, { nodeId: 'n1', fileName: `job-driver-${id}.log` });
    logs.append(`job-driver-${id}.log`, 'hi\n');
    let text = '';
    const tail = client.tail(id, (chunk) => {
      text += chunk.toString();
      if (text === 'hi\n') {
        logs.append(`job-driver-${id}.log`, 'bye\n');
        jobs.update(id, { status: 'SUCCEEDED' });
      }
    });
    await tail.done;
    expect(text).toBe('hi\nbye\n');
    expect(await client.logs(id)).toBe('hi\nbye\n');
    expect((await client.get(id)).status).toBe('SUCCEEDED');
  });

  it('refusals: a bad field is a usage error, an unknown job a not-found error, a package over the limit a 413 naming it', async () => {
    const bad = await client.submit({ entrypoint: 'x', entrypoint_num_cpus: -1 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(UsageError);
    expect((bad as Error).message).toBe('entrypoint_num_cpus: must be a number ≥ 0, got number -1');
    const missing = await client.get('nope').catch((e: unknown) => e);
    expect((missing as Error).message).toBe('job with id=nope not found');
    expect((missing as UsageError).exitCode).toBe(1);
    const tailMissing = await client.tail('nope', () => undefined).done.catch((e: unknown) => e);
    expect((tailMissing as Error).message).toBe('job with id=nope not found');

    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(LIMIT + 1));
    const tooLarge = await client.uploadPackage(`gcs://_rayts_pkg_${'e'.repeat(64)}.tar.gz`, big, LIMIT + 1).catch((e: unknown) => e);
    expect(tooLarge).toBeInstanceOf(ApiError);
    expect((tooLarge as ApiError).status).toBe(413);
    expect((tooLarge as ApiError).serverMessage).toContain(`over the head's limit of 256.00KiB (${LIMIT} bytes, RAYTS_JOB_PACKAGE_MAX_BYTES)`);
    expect(packages.stored.size).toBe(0);
  });
});
