/** One job: its fields, a Stop button while it runs, and its driver's log, followed live. */
import { useState } from 'preact/hooks';
import { getJson, getText, postJson, query } from '../api.js';
import { usePoll } from '../use_poll.js';
import { Page } from '../components/page.js';
import { Fields } from '../components/fields.js';
import { StateBadge } from '../components/state_badge.js';
import { LogView } from '../components/log_view.js';
import { IdLink } from '../components/id_link.js';
import { time } from '../format.js';
import { jobDuration } from './jobs.js';
import type { JobRow, LogListing } from '../types.js';

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);
const TAIL_LINES = 1000;

/**
 * The driver log's last lines: from its node's log file once the node lists it (bounded, however
 * long the log grew), else the jobs API's whole log (empty before the driver started).
 */
function driverLog(job: JobRow, id: string) {
  return async (signal: AbortSignal): Promise<string> => {
    const node = job.driver_node_id;
    const filename = `job-driver-${job.submission_id}.log`;
    if (node) {
      const listing = await getJson<LogListing>(`/api/v0/logs${query({ node_id: node, glob: filename })}`, signal).catch(() => undefined);
      if (listing?.result[node]?.files.some((f) => f.name === filename)) {
        return getText(`/api/v0/logs/file${query({ node_id: node, filename, lines: TAIL_LINES })}`, signal);
      }
    }
    return (await getJson<{ logs: string }>(`/api/jobs/${encodeURIComponent(id)}/logs`, signal)).logs;
  };
}

export function JobDetailPage({ id }: { id: string }) {
  const path = `/api/v0/jobs/${encodeURIComponent(id)}`;
  const poll = usePoll(async (signal) => (await getJson<{ result: JobRow[] }>(path, signal)).result[0]!, [id]);
  const [stopError, setStopError] = useState<string>();
  const [stopping, setStopping] = useState(false);
  const job = poll.data;
  const stop = async () => {
    setStopping(true);
    setStopError(undefined);
    try {
      await postJson(`/api/jobs/${encodeURIComponent(id)}/stop`, {});
      poll.refresh();
    } catch (err) {
      setStopError((err as Error).message);
    } finally {
      setStopping(false);
    }
  };
  return (
    <Page title={`Job ${id}`} polls={[poll]}>
      {job && (
        <>
          <Fields items={[
            ['Status', <span data-testid="job-status"><StateBadge state={job.status} /></span>], ['Message', job.message],
            ['Entrypoint', <code>{job.entrypoint}</code>], ['Type', job.type], ['Driver job id', job.job_id],
            ['Driver node', <IdLink page="nodes" id={job.driver_node_id} />], ['Exit code', job.driver_exit_code],
            ['Started', time(job.start_time_ms)], ['Duration', jobDuration(job)], ['Error type', job.error_type],
          ]} />
          {!FINAL.has(job.status) && job.submission_id && (
            <p><button type="button" class="danger" onClick={stop} disabled={stopping}>{stopping ? 'Stopping…' : 'Stop job'}</button></p>
          )}
          {stopError && <p class="error" role="alert">Could not stop the job: {stopError}</p>}
          <h2>Driver log</h2>
          {job.submission_id ? (
            <LogView label="driver log" deps={[id, job.driver_node_id]} fetchText={driverLog(job, id)} />
          ) : <p class="muted">This driver was started by hand: its output went to its own terminal.</p>}
        </>
      )}
    </Page>
  );
}
