/** What `rayts job` prints, in Ray's words and layout (colour off, as off a terminal). */
import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { dashedBlock, jobTable, packedLine, serverAddressLine, statusLines, submittedLines, tooLargeProblem } from './job_format.js';
import type { Line } from './job_output.js';
import { jobJson } from './jobs.test_helper.js';

const plain = new Chalk({ level: 0 });
const color = () => plain;
const rule = (t: string) => '-'.repeat(t.length);
const text = (lines: Line[]) => lines.map((l) => `${l.stream}|${l.text}`);

describe('banners', () => {
  it('a dashed block: blank line, dash rows as long as the text, blank line', () => {
    expect(text(dashedBlock("Job 'a' succeeded", 'out', (s) => s))).toEqual(['out|', 'out|-----------------', "out|Job 'a' succeeded", 'out|-----------------', 'out|']);
  });

  it('the submitted block and Ray\'s next steps, with rayts commands', () => {
    expect(serverAddressLine('http://127.0.0.1:8265', color)).toEqual({ stream: 'out', text: 'Job submission server address: http://127.0.0.1:8265' });
    expect(submittedLines('j1', color).map((l) => l.text).join('\n')).toBe([
      '', rule("Job 'j1' submitted successfully"), "Job 'j1' submitted successfully", rule("Job 'j1' submitted successfully"), '',
      'Next steps',
      '  Query the logs of the job:', '    rayts job logs j1',
      '  Query the status of the job:', '    rayts job status j1',
      '  Request the job to be stopped:', '    rayts job stop j1',
      '',
    ].join('\n'));
  });
});

describe('statusLines', () => {
  it('succeeded: a success block on stdout', () => {
    expect(text(statusLines(jobJson({ status: 'SUCCEEDED', message: 'done' }), 'j', color)))
      .toEqual(['out|', `out|${rule("Job 'j' succeeded")}`, "out|Job 'j' succeeded", `out|${rule("Job 'j' succeeded")}`, 'out|']);
  });

  it('failed: an error block on stderr, then the status message', () => {
    expect(text(statusLines(jobJson({ status: 'FAILED', message: 'exit code 3' }), 'j', color)))
      .toEqual(['err|', `err|${rule("Job 'j' failed")}`, "err|Job 'j' failed", `err|${rule("Job 'j' failed")}`, 'err|', 'out|Status message: exit code 3']);
  });

  it('stopped: a warning line on stderr', () => {
    expect(text(statusLines(jobJson({ status: 'STOPPED' }), 'j', color))).toEqual(["err|Job 'j' was stopped"]);
  });

  it('on its way: the status and its message, if any', () => {
    expect(text(statusLines(jobJson({ status: 'PENDING', message: 'setting up the runtime env' }), 'j', color)))
      .toEqual(["out|Status for job 'j': PENDING", 'out|Status message: setting up the runtime env']);
    expect(text(statusLines(jobJson({ status: 'RUNNING' }), 'j', color))).toEqual(["out|Status for job 'j': RUNNING"]);
  });

  it('colour, when on, marks the outcome', () => {
    const colored = new Chalk({ level: 1 });
    const [, dashes] = statusLines(jobJson({ status: 'SUCCEEDED' }), 'j', () => colored);
    expect(dashes!.text).toBe(colored.green(rule("Job 'j' succeeded")));
    expect(dashes!.text).not.toBe(rule("Job 'j' succeeded"));
  });
});

describe('jobTable', () => {
  it('one row per job with its ids, status, entrypoint, times and message; long text shortened to one line', () => {
    const table = jobTable([
      jobJson({ status: 'SUCCEEDED', job_id: '01000000', end_time: new Date(2026, 0, 2, 3, 5, 0).getTime(), message: 'Job finished successfully.' }),
      jobJson({ submission_id: 'long', entrypoint: `node ${'x'.repeat(80)}.mjs`, message: 'line one\nline two' }),
      jobJson({ type: 'DRIVER', submission_id: null, job_id: '02000000' }),
    ]).split('\n');
    expect(table[0]).toMatch(/^SUBMISSION_ID\s+JOB_ID\s+STATUS\s+ENTRYPOINT\s+START_TIME\s+END_TIME\s+MESSAGE$/);
    expect(table[1]).toMatch(/^raysubmit_abc\s+01000000\s+SUCCEEDED\s+node main\.mjs\s+2026-01-02 03:04:05\s+2026-01-02 03:05:00\s+Job finished successfully\.$/);
    expect(table[2]).toContain(`node ${'x'.repeat(42)}…`);
    expect(table[2]).toContain('line one line two');
    expect(table[3]).toMatch(/^\s+02000000\s+RUNNING/);
    expect(jobTable([])).toBe('No jobs.');
  });
});

describe('working_dir lines', () => {
  it('packing: files, bytes and the packed size', () => {
    expect(packedLine('./app', { fileCount: 12, totalBytes: 3500, size: 1200 })).toBe('Packing working_dir ./app: 12 files, 3.42KiB (packed 1.17KiB)');
    expect(packedLine('.', { fileCount: 1, totalBytes: 10, size: 100 })).toBe('Packing working_dir .: 1 file, 10B (packed 100B)');
  });

  it('over the limit: names the limit, the biggest folders and what to do', () => {
    const p = tooLargeProblem('.', { size: 3 * 1024 ** 2, largestFolders: [{ path: 'data', bytes: 5 * 1024 ** 2 }, { path: '.', bytes: 2048 }] }, 1024 ** 2);
    expect(p.message).toBe("the packed working_dir . is 3.00MiB, over the head's limit of 1.00MiB (RAYTS_JOB_PACKAGE_MAX_BYTES); nothing was uploaded");
    expect(p.hint).toMatch(/^the largest folders: data\/ 5\.00MiB, \(files at the top\) 2\.00KiB\. Leave out .*excludes.*\.gitignore/);
  });
});
