/**
 * What `rayts job` prints, in Ray's words (`dashboard/modules/job/cli.py`): the dashed banners, the
 * "Next steps" group, a job's status, the jobs table, the working_dir lines. Pure: the commands
 * decide where the lines go.
 */
import type { ChalkInstance } from 'chalk';
import { formatBytes, formatTable, formatTimestamp } from '@rayts/common';
import type { JobDetailsJson } from '@rayts/dashboard/jobs/job_json';
import type { PackedDir } from '@rayts/common';
import type { Line, Stream } from './job_output.js';

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['STOPPED', 'SUCCEEDED', 'FAILED']);

export type Painter = (stream: Stream) => ChalkInstance;

/** A blank line, the text between two dash rows as long as it, a blank line. */
export function dashedBlock(text: string, stream: Stream, paint: (s: string) => string): Line[] {
  const rule = '-'.repeat(text.length);
  return [{ stream, text: '' }, ...[rule, text, rule].map((t) => ({ stream, text: paint(t) })), { stream, text: '' }];
}

export function serverAddressLine(url: string, color: Painter): Line {
  return { stream: 'out', text: `Job submission server address: ${color('out').bold(url)}` };
}

export function submittedLines(id: string, color: Painter): Line[] {
  const c = color('out');
  const step = (what: string, command: string): Line[] => [
    { stream: 'out', text: `  ${what}` },
    { stream: 'out', text: `    ${c.bold(command)}` },
  ];
  return [
    ...dashedBlock(`Job '${id}' submitted successfully`, 'out', c.green),
    { stream: 'out', text: c.cyan.bold('Next steps') },
    ...step('Query the logs of the job:', `rayts job logs ${id}`),
    ...step('Query the status of the job:', `rayts job status ${id}`),
    ...step('Request the job to be stopped:', `rayts job stop ${id}`),
    { stream: 'out', text: '' },
  ];
}

export const TAILING_LINE = 'Tailing logs until the job exits (disable with --no-wait):';

/**
 * A job's status as Ray reports it: a success block, a "was stopped" warning, an error block with
 * the status message, or for a job still on its way `Status for job 'ID': STATUS` and its message.
 */
export function statusLines(job: JobDetailsJson, id: string, color: Painter): Line[] {
  const message = job.message ? [{ stream: 'out' as const, text: `Status message: ${job.message}` }] : [];
  switch (job.status) {
    case 'SUCCEEDED':
      return dashedBlock(`Job '${id}' succeeded`, 'out', color('out').green);
    case 'STOPPED':
      return [{ stream: 'err', text: color('err').yellow(`Job '${id}' was stopped`) }];
    case 'FAILED':
      return [...dashedBlock(`Job '${id}' failed`, 'err', color('err').red), ...message];
    default:
      return [{ stream: 'out', text: `Status for job '${id}': ${color('out').bold(job.status)}` }, ...message];
  }
}

function shortened(text: string, max: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ');
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

function time(ms: number | null): string {
  return ms === null ? '' : formatTimestamp(new Date(ms), false);
}

/** `rayts job list`: one row per job, oldest first. */
export function jobTable(jobs: JobDetailsJson[]): string {
  if (jobs.length === 0) return 'No jobs.';
  const rows = jobs.map((j) => [
    j.submission_id ?? '', j.job_id ?? '', j.status, shortened(j.entrypoint, 48), time(j.start_time), time(j.end_time), shortened(j.message, 60),
  ]);
  return formatTable(['SUBMISSION_ID', 'JOB_ID', 'STATUS', 'ENTRYPOINT', 'START_TIME', 'END_TIME', 'MESSAGE'], rows);
}

export function packedLine(shownDir: string, packed: Pick<PackedDir, 'fileCount' | 'totalBytes' | 'size'>): string {
  return `Packing working_dir ${shownDir}: ${packed.fileCount} file${packed.fileCount === 1 ? '' : 's'}, ${formatBytes(packed.totalBytes)} (packed ${formatBytes(packed.size)})`;
}

/** The error for a packed working_dir over the head's limit, naming the limit and where the bytes are. */
export function tooLargeProblem(shownDir: string, packed: Pick<PackedDir, 'size' | 'largestFolders'>, limitBytes: number): { message: string; hint: string } {
  const folders = packed.largestFolders.map((f) => `${f.path === '.' ? '(files at the top)' : `${f.path}/`} ${formatBytes(f.bytes)}`).join(', ');
  return {
    message: `the packed working_dir ${shownDir} is ${formatBytes(packed.size)}, over the head's limit of ${formatBytes(limitBytes)} (RAYTS_JOB_PACKAGE_MAX_BYTES); nothing was uploaded`,
    hint: `${folders ? `the largest folders: ${folders}. ` : ''}Leave out what the job does not need with "excludes" in the runtime env (--runtime-env-json '{"excludes": ["data/"]}') or a .gitignore; or raise RAYTS_JOB_PACKAGE_MAX_BYTES on the head`,
  };
}
