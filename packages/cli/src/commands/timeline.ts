/**
 * `rayts timeline [--output FILE]`: the cluster's task timeline as a Chrome trace file (Ray's
 * `ray timeline`), to open in chrome://tracing or https://ui.perfetto.dev.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StateApi } from './state.js';

export interface TimelineOptions {
  output?: string;
  jobId?: string;
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

export async function timelineCommand(options: TimelineOptions, tempDir: string, api: StateApi): Promise<number> {
  const events = await api.get<{ ph: string }[]>('/api/v0/tasks/timeline', { job_id: options.jobId });
  let file = options.output;
  if (!file) {
    mkdirSync(tempDir, { recursive: true });
    file = join(tempDir, `rayts-timeline-${stamp(new Date())}.json`);
  }
  file = resolve(file);
  writeFileSync(file, JSON.stringify(events));
  const executions = events.filter((e) => e.ph === 'X').length;
  process.stderr.write(`Trace file written to ${file} (${executions} task executions).\n`
    + 'Open it with chrome://tracing or https://ui.perfetto.dev (Open trace file).\n');
  return 0;
}
