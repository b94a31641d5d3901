/**
 * What each `rayts job` subcommand does once its flags are checked and the API is found: submit
 * (upload the working_dir, submit, follow the log to the end), status, logs (whole or followed),
 * stop (and wait for the end), list, delete. Each returns its exit code.
 */
import type { JobDetailsJson } from '@rayts/dashboard/jobs/job_json';
import type { JobsClient } from './job_client.js';
import type { JobOutput } from './job_output.js';
import { TAILING_LINE, TERMINAL_STATUSES, jobTable, statusLines, submittedLines } from './job_format.js';
import { submitBody, type SubmitPlan } from './submit_options.js';
import { uploadWorkingDir } from './working_dir.js';

export interface JobContext {
  client: JobsClient;
  output: JobOutput;
  /** Between two status checks while waiting for a job to end (Ray: 1 s). */
  pollMs: number;
  sleep(ms: number): Promise<void>;
  /** Calls `handler` on Ctrl-C (or SIGTERM) until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
}

const isTerminal = (job: JobDetailsJson) => TERMINAL_STATUSES.has(job.status);

function report(ctx: JobContext, job: JobDetailsJson, id: string): void {
  ctx.output.lines(statusLines(job, id, (s) => ctx.output.color(s)));
}

/**
 * Prints the job's log from its start as it comes until the job ended, then its final status.
 * Ctrl-C stops following (the job keeps running) and prints the status it has then.
 */
async function followToEnd(ctx: JobContext, id: string): Promise<JobDetailsJson> {
  let interrupted = false;
  let endsWithNewline = true;
  const stream = ctx.client.tail(id, (chunk) => {
    if (chunk.length === 0) return;
    ctx.output.raw(chunk);
    endsWithNewline = chunk[chunk.length - 1] === 0x0a;
  });
  const off = ctx.onInterrupt(() => { interrupted = true; stream.cancel(); });
  try {
    await stream.done;
    if (!endsWithNewline) ctx.output.raw('\n');
    let job = await ctx.client.get(id);
    // The log ends with the job; should it end first (its node died), the status follows shortly.
    while (!interrupted && !isTerminal(job)) {
      await ctx.sleep(ctx.pollMs);
      job = await ctx.client.get(id);
    }
    report(ctx, job, id);
    return job;
  } finally {
    off();
  }
}

export async function submitJob(plan: SubmitPlan, ctx: JobContext, tmpDir: string): Promise<number> {
  const { output } = ctx;
  for (const warning of plan.warnings) output.line('err', output.color('err').yellow(`Warning: ${warning}`));
  const uri = plan.workingDir
    ? await uploadWorkingDir(plan.workingDir, plan.runtimeEnv.excludes, { client: ctx.client, output, tmpDir })
    : undefined;
  const { submission_id: id } = await ctx.client.submit(submitBody(plan, uri));
  output.lines(submittedLines(id, (s) => output.color(s)));
  if (!plan.wait) return 0;
  output.line('out', TAILING_LINE);
  const job = await followToEnd(ctx, id);
  return job.status === 'FAILED' ? 1 : 0;
}

export async function jobStatus(id: string, json: boolean, ctx: JobContext): Promise<number> {
  const job = await ctx.client.get(id);
  if (json) ctx.output.line('out', JSON.stringify(job, null, 2));
  else report(ctx, job, id);
  return 0;
}

export async function jobLogs(id: string, follow: boolean, ctx: JobContext): Promise<number> {
  if (follow) await followToEnd(ctx, id);
  else ctx.output.raw(await ctx.client.logs(id));
  return 0;
}

export async function stopJob(id: string, wait: boolean, ctx: JobContext): Promise<number> {
  const { output } = ctx;
  output.line('out', `Attempting to stop job '${id}'`);
  await ctx.client.stop(id);
  if (!wait) return 0;
  output.line('out', `Waiting for job '${id}' to exit (disable with --no-wait):`);
  let interrupted = false;
  const off = ctx.onInterrupt(() => { interrupted = true; });
  try {
    for (;;) {
      const job = await ctx.client.get(id);
      if (isTerminal(job) || interrupted) {
        report(ctx, job, id);
        return 0;
      }
      output.line('out', `Job has not exited yet. Status: ${job.status}`);
      await ctx.sleep(ctx.pollMs);
    }
  } finally {
    off();
  }
}

export async function listJobs(json: boolean, ctx: JobContext): Promise<number> {
  const jobs = await ctx.client.list();
  ctx.output.line('out', json ? JSON.stringify(jobs, null, 2) : jobTable(jobs));
  return 0;
}

export async function deleteJob(id: string, ctx: JobContext): Promise<number> {
  await ctx.client.delete(id);
  ctx.output.line('out', `Job '${id}' deleted successfully`);
  return 0;
}
