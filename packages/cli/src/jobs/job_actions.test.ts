/**
 * The `rayts job` subcommands against a fake head (no network): what they send, in which order,
 * what they print and their exit codes — the working_dir packed (for real, into a temp dir) and
 * uploaded only when the head lacks it and it fits, the log followed to the job's end, stop's wait.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaytsError, UsageError } from '@rayts/common';
import { WorkingDirTooLargeError } from '../errors.js';
import { JobsClient } from './job_client.js';
import { deleteJob, jobLogs, jobStatus, listJobs, stopJob, submitJob, type JobContext } from './job_actions.js';
import { planSubmission, type SubmitFlags } from './submit_options.js';
import { FakeHead, MemoryOutput, jobJson } from './jobs.test_helper.js';

let dir: string;
let scratch: string;
let head: FakeHead;
let output: MemoryOutput;
let sleeps: number;
let interrupt: (() => void) | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rayts-job-actions-'));
  scratch = mkdtempSync(join(tmpdir(), 'rayts-job-scratch-'));
  mkdirSync(join(dir, 'app', 'lib'), { recursive: true });
  writeFileSync(join(dir, 'app', 'main.mjs'), 'import { hello } from "./lib/hello.mjs";\nconsole.log(hello());\n');
  writeFileSync(join(dir, 'app', 'lib', 'hello.mjs'), 'export const hello = () => "hello";\n');
  head = new FakeHead();
  output = new MemoryOutput();
  sleeps = 0;
  interrupt = undefined;
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

function context(): JobContext {
  return {
    client: new JobsClient(head), output, pollMs: 1000,
    sleep: async () => { sleeps += 1; },
    onInterrupt: (handler) => { interrupt = handler; return () => { interrupt = undefined; }; },
  };
}

const rule = (text: string) => '-'.repeat(text.length);
const submit = (flags: SubmitFlags, entrypoint = ['node', 'main.mjs']) => submitJob(planSubmission(entrypoint, flags, dir), context(), scratch);

describe('rayts job submit', () => {
  it('packs and uploads the working_dir, submits with its URI, follows the log and reports success (exit 0)', async () => {
    head.logs.set('nightly', ['hello\n', 'done\n']);
    head.scripts.set('nightly', [{ status: 'SUCCEEDED', message: 'Job finished successfully.' }]);
    expect(await submit({ workingDir: 'app', submissionId: 'nightly', runtimeEnvJson: '{"env_vars": {"A": "1"}}' })).toBe(0);
    const [upload] = head.uploads;
    expect(upload).toMatchObject({ fileExisted: true });
    expect(upload!.uri).toMatch(/^gcs:\/\/_rayts_pkg_[0-9a-f]{64}\.tar\.gz$/);
    expect(head.submitted).toEqual([{ entrypoint: 'node main.mjs', submission_id: 'nightly', runtime_env: { working_dir: upload!.uri, env_vars: { A: '1' } } }]);
    expect(head.calls.filter((c) => !c.startsWith('GET /api/jobs/nightly'))).toEqual([
      'GET /api/version', `GET /api/packages/gcs/${upload!.uri.slice(6)}`, `PUT /api/packages/gcs/${upload!.uri.slice(6)}`,
      'POST /api/jobs/', 'STREAM /api/jobs/nightly/logs/tail',
    ]);
    expect(output.stdout()).toBe([
      `Packing working_dir app: 2 files, 99B (packed ${upload!.size}B)`,
      `Uploading package ${upload!.uri} (${upload!.size}B).`,
      `Finished uploading package ${upload!.uri}.`,
      '', rule("Job 'nightly' submitted successfully"), "Job 'nightly' submitted successfully", rule("Job 'nightly' submitted successfully"), '',
      'Next steps',
      '  Query the logs of the job:', '    rayts job logs nightly',
      '  Query the status of the job:', '    rayts job status nightly',
      '  Request the job to be stopped:', '    rayts job stop nightly',
      '',
      'Tailing logs until the job exits (disable with --no-wait):',
      'hello', 'done',
      '', rule("Job 'nightly' succeeded"), "Job 'nightly' succeeded", rule("Job 'nightly' succeeded"), '', '',
    ].join('\n'));
    expect(output.stderr()).toBe('');
    expect(output.progressed.some((p) => p.startsWith('Uploading'))).toBe(true);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('a package the head already has is not uploaded again', async () => {
    head.scripts.set('a', [{ status: 'SUCCEEDED' }]);
    await submit({ workingDir: 'app', submissionId: 'a', wait: false });
    const uri = head.uploads[0]!.uri;
    head.scripts.set('b', [{ status: 'SUCCEEDED' }]);
    await submit({ workingDir: 'app', submissionId: 'b', wait: false });
    expect(head.uploads).toHaveLength(1);
    expect(output.stdout()).toContain(`Package ${uri} is already on the head, not uploaded.`);
    expect(head.submitted[1]!.runtime_env).toEqual({ working_dir: uri });
  });

  it('a packed working_dir over the head\'s limit: an error naming the limit and the largest folder; nothing uploaded or submitted', async () => {
    writeFileSync(join(dir, 'app', 'lib', 'data.bin'), Buffer.alloc(4096, 1).map((_, i) => (i * 7919) % 251));
    head.packageMaxBytes = 300;
    const err = await submit({ workingDir: 'app' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkingDirTooLargeError);
    expect((err as RaytsError).exitCode).toBe(1);
    expect((err as Error).message).toMatch(/^the packed working_dir app is .*, over the head's limit of 300B \(RAYTS_JOB_PACKAGE_MAX_BYTES\); nothing was uploaded$/);
    expect((err as RaytsError).hint).toMatch(/^the largest folders: lib\/ 4\.\d\dKiB, \(files at the top\) /);
    expect(head.uploads).toEqual([]);
    expect(head.submitted).toEqual([]);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('--no-wait: the banner, then exit 0 without following', async () => {
    expect(await submit({ wait: false })).toBe(0);
    expect(output.stdout()).toContain("Job 'raysubmit_0123456789ABCDEF' submitted successfully");
    expect(output.stdout()).not.toContain('Tailing logs');
    expect(head.calls).toEqual(['POST /api/jobs/']);
  });

  it('a job that fails: the error block on stderr, its message, exit 1; a log without a last newline gets one', async () => {
    head.logs.set('f', ['boom']);
    head.scripts.set('f', [{ status: 'RUNNING' }, { status: 'FAILED', message: 'the entrypoint exited with code 3' }]);
    expect(await submit({ submissionId: 'f' })).toBe(1);
    expect(output.stdout()).toMatch(/Tailing logs until the job exits \(disable with --no-wait\):\nboom\nStatus message: the entrypoint exited with code 3\n$/);
    expect(output.stderr()).toBe(`\n${rule("Job 'f' failed")}\nJob 'f' failed\n${rule("Job 'f' failed")}\n\n`);
    expect(sleeps).toBe(1);
  });

  it('the server refusing a field is a usage error (exit 2); deprecated --job-id warns on stderr', async () => {
    head.post = async () => { throw new (await import('../errors.js')).ApiError(400, 'entrypoint_num_cpus: must be a number ≥ 0', 'POST', '/api/jobs/'); };
    const err = await submit({ jobId: 'old', wait: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('entrypoint_num_cpus: must be a number ≥ 0');
    expect(output.stderr()).toBe('Warning: --job-id is deprecated: use --submission-id\n');
  });

  it('Ctrl-C while following stops following and prints the status the job has then', async () => {
    head.jobs.set('r', jobJson({ submission_id: 'r', status: 'RUNNING' }));
    head.logs.set('r', ['one\n', 'two\n', 'three\n']);
    const client = new JobsClient(head);
    const ctx = { ...context(), client };
    const original = client.tail.bind(client);
    client.tail = (id, onData) => original(id, (chunk) => { onData(chunk); interrupt?.(); });
    expect(await jobLogs('r', true, ctx)).toBe(0);
    expect(output.stdout()).toBe("one\nStatus for job 'r': RUNNING\n");
    expect(interrupt).toBeUndefined();
  });
});

describe('rayts job status, logs, stop, list, delete', () => {
  beforeEach(() => {
    head.jobs.set('s', jobJson({ submission_id: 's', status: 'RUNNING', message: 'Job is running.' }));
  });

  it('status: Ray\'s lines, or the details as JSON', async () => {
    expect(await jobStatus('s', false, context())).toBe(0);
    expect(output.stdout()).toBe("Status for job 's': RUNNING\nStatus message: Job is running.\n");
    await jobStatus('s', true, context());
    expect(JSON.parse(output.out[output.out.length - 1]!)).toMatchObject({ submission_id: 's', status: 'RUNNING' });
  });

  it('an unknown job is one "not found" line, exit 1', async () => {
    const err = await jobStatus('nope', false, context()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RaytsError);
    expect(err).not.toBeInstanceOf(UsageError);
    expect((err as RaytsError).exitCode).toBe(1);
    expect((err as Error).message).toBe('no such thing: /api/jobs/nope');
  });

  it('logs: the whole log as it is; -f follows to the end and reports the final status', async () => {
    head.logs.set('s', ['a\n', 'b\n']);
    await jobLogs('s', false, context());
    expect(output.stdout()).toBe('a\nb\n');
    head.scripts.set('s', [{ status: 'SUCCEEDED' }]);
    await jobLogs('s', true, context());
    expect(output.stdout()).toBe(`a\nb\na\nb\n\n${rule("Job 's' succeeded")}\nJob 's' succeeded\n${rule("Job 's' succeeded")}\n\n`);
  });

  it('stop: asks, then prints the status every poll until the job exited', async () => {
    head.scripts.set('s', [{ status: 'RUNNING' }, { status: 'RUNNING' }, { status: 'STOPPED' }]);
    expect(await stopJob('s', true, context())).toBe(0);
    expect(output.stdout()).toBe([
      "Attempting to stop job 's'", "Waiting for job 's' to exit (disable with --no-wait):",
      'Job has not exited yet. Status: RUNNING', 'Job has not exited yet. Status: RUNNING', '',
    ].join('\n'));
    expect(output.stderr()).toBe("Job 's' was stopped\n");
    expect(sleeps).toBe(2);
    expect(head.calls[0]).toBe('POST /api/jobs/s/stop');
  });

  it('stop --no-wait: asks and returns', async () => {
    expect(await stopJob('s', false, context())).toBe(0);
    expect(output.stdout()).toBe("Attempting to stop job 's'\n");
    expect(head.calls).toEqual(['POST /api/jobs/s/stop']);
  });

  it('list: the table, or every job as JSON', async () => {
    await listJobs(false, context());
    expect(output.stdout()).toMatch(/^SUBMISSION_ID\s+JOB_ID\s+STATUS.*\ns\s+RUNNING\s+node main\.mjs/);
    await listJobs(true, context());
    expect(JSON.parse(output.out[output.out.length - 1]!)).toEqual([jobJson({ submission_id: 's', status: 'RUNNING', message: 'Job is running.' })]);
  });

  it('delete: one line', async () => {
    expect(await deleteJob('s', context())).toBe(0);
    expect(output.stdout()).toBe("Job 's' deleted successfully\n");
    expect(head.jobs.has('s')).toBe(false);
  });
});
