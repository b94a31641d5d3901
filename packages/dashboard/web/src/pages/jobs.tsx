/** Jobs: status, entrypoint, start and duration, newest first. */
import { getJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { DataTable } from '../components/data_table.js';
import { StateBadge } from '../components/state_badge.js';
import { IdLink } from '../components/id_link.js';
import { duration, time } from '../format.js';
import type { JobRow, ListReply } from '../types.js';

export const jobKey = (j: JobRow): string => j.submission_id ?? j.job_id ?? '';

export function jobDuration(j: JobRow): string {
  if (!j.start_time_ms) return '—';
  return duration((j.end_time_ms ?? Date.now()) - j.start_time_ms);
}

export function JobsPage() {
  const poll = usePoll((signal) => getJson<ListReply<JobRow>>(`/api/v0/jobs${query({ limit: 10000, detail: true })}`, signal), []);
  return (
    <Page title="Jobs" polls={[poll]}>
      {poll.data && (
        <DataTable caption="Jobs" rows={poll.data.result} rowKey={jobKey} empty="No jobs yet: submit one with `rayts job submit`." columns={[
          { label: 'Job', render: (j) => <IdLink page="jobs" id={jobKey(j)} label={`job ${jobKey(j)}`} /> },
          { label: 'Status', render: (j) => <span data-testid={`job-status-${jobKey(j)}`}><StateBadge state={j.status} /></span> },
          { label: 'Type', render: (j) => j.type },
          { label: 'Entrypoint', render: (j) => <code>{j.entrypoint}</code> },
          { label: 'Started', render: (j) => time(j.start_time_ms) },
          { label: 'Duration', render: jobDuration, numeric: true },
        ]} />
      )}
    </Page>
  );
}
