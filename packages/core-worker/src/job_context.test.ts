/** JobContext.bindJob: what a worker changes when the raylet binds it to a job (real directories). */
import { accessSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobContext, type JobProcess } from './job_context.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** A process stand-in with a real current-directory check (chdir into a missing dir throws, as process.chdir does). */
function processAt(start: string): JobProcess & { cwd: string } {
  const proc = {
    cwd: start,
    env: { PATH: '/usr/bin' } as NodeJS.ProcessEnv,
    chdir(dir: string) {
      // process.chdir's own check, without moving the test runner's directory.
      accessSync(dir);
      proc.cwd = dir;
    },
  };
  return proc;
}

describe('JobContext.bindJob', () => {
  it('enters the working_dir, makes it the import base, and adds the env vars', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rayts-bind-'));
    dirs.push(dir);
    const job = new JobContext('', undefined, '');
    const proc = processAt('/');
    job.bindJob({ type: 'bindJob', jobId: 'job-1', dir, envVars: { MODE: 'prod' } }, proc);
    expect(proc.cwd).toBe(dir);
    expect(job.jobDir).toBe(dir);
    expect(job.jobId).toBe('job-1');
    expect(proc.env).toEqual({ PATH: '/usr/bin', MODE: 'prod' });
  });

  it('keeps the directory and the import base of a job without a working_dir', () => {
    const job = new JobContext('', '/driver/project', '');
    const proc = processAt('/');
    job.bindJob({ type: 'bindJob', jobId: 'job-2', envVars: {} }, proc);
    expect(proc.cwd).toBe('/');
    expect(job.jobDir).toBe('/driver/project');
    expect(job.jobId).toBe('job-2');
  });

  it('names the job and the directory it cannot enter', () => {
    const job = new JobContext('', undefined, '');
    expect(() => job.bindJob({ type: 'bindJob', jobId: 'job-3', dir: '/nonexistent/rayts-dir', envVars: {} }, processAt('/')))
      .toThrow(/working_dir of job job-3 \(\/nonexistent\/rayts-dir\)/);
  });
});
