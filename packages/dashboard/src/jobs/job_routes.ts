/**
 * Ray's job submission REST API (`job_head.py`) over the head's JobApi: submit, list, get, stop,
 * delete, and the driver's log — whole, or followed as chunked text/plain until the job ends (Ray
 * follows over a websocket; a plain chunked response needs nothing but HTTP). Jobs are named by
 * submission id or by their driver's hex job id.
 */
import { PassThrough } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '@rayts/common';
import { TERMINAL_JOB_STATUSES, type JobApi, type JobDetails } from '@rayts/gcs';
import { BadRequestError } from '../errors.js';
import type { StateSources } from '../state/sources.js';
import { jobDetailsJson, type DeleteJobReply, type JobDetailsJson, type JobLogsReply, type StopJobReply, type SubmitJobReply } from './job_json.js';
import { parseSubmitRequest } from './submit_request.js';
import { JobLogTail, readJobLog } from './job_logs.js';

export interface JobRoutesDeps {
  jobs: JobApi;
  /** The nodes and their log services (the driver's log is read from its node). */
  sources: Pick<StateSources, 'nodes' | 'nodeLogs'>;
  /** How often a followed log checks whether its job ended (ms; default 250). */
  tailPollMs?: number;
}

const DEFAULT_TAIL_POLL_MS = 250;

type IdParams = { Params: { id: string } };

export function jobRoutes(deps: JobRoutesDeps): FastifyPluginAsync {
  const { jobs } = deps;
  const pollMs = deps.tailPollMs ?? DEFAULT_TAIL_POLL_MS;

  const known = (id: string): JobDetails => {
    const job = jobs.get(id);
    if (!job) throw new NotFoundError(`job with id=${id} not found`, 'list the jobs with `rayts job list`');
    return job;
  };
  const submitted = (job: JobDetails, id: string, what: string): void => {
    if (job.type !== 'SUBMISSION') {
      throw new BadRequestError(`job ${id} is a driver started outside the job API: only submitted jobs can be ${what}`,
        'a driver that called init() by itself ends when its program does');
    }
  };

  return async (app) => {
    const submit = async (request: { body: unknown }): Promise<SubmitJobReply> => {
      const job = jobs.submit(parseSubmitRequest(request.body));
      const id = job.submissionId ?? '';
      return { job_id: id, submission_id: id };
    };
    const list = async (): Promise<JobDetailsJson[]> => jobs.list().map(jobDetailsJson);
    // Ray's clients use the trailing slash; curl users often leave it out.
    for (const url of ['/api/jobs/', '/api/jobs']) {
      app.post(url, submit);
      app.get(url, list);
    }

    app.get<IdParams>('/api/jobs/:id', async (req): Promise<JobDetailsJson> => jobDetailsJson(known(req.params.id)));

    app.delete<IdParams>('/api/jobs/:id', async (req): Promise<DeleteJobReply> => {
      const { id } = req.params;
      const job = known(id);
      submitted(job, id, 'deleted');
      if (!TERMINAL_JOB_STATUSES.has(job.status)) {
        throw new BadRequestError(`job ${id} is ${job.status}: only a finished job (STOPPED, SUCCEEDED or FAILED) can be deleted`,
          `stop it first: rayts job stop ${id}`);
      }
      jobs.delete(id);
      return { deleted: true };
    });

    app.post<IdParams>('/api/jobs/:id/stop', async (req): Promise<StopJobReply> => {
      const { id } = req.params;
      submitted(known(id), id, 'stopped');
      return { stopped: jobs.stop(id) };
    });

    app.get<IdParams>('/api/jobs/:id/logs', async (req): Promise<JobLogsReply> => ({ logs: await readJobLog(deps, req.params.id) }));

    app.get<IdParams>('/api/jobs/:id/logs/tail', async (req, reply) => {
      const { id } = req.params;
      known(id);
      const body = new PassThrough();
      const tail = new JobLogTail(deps, id, body, pollMs);
      // The response closes when the tail is over or the client went away: either way the tail stops.
      reply.raw.once('close', () => tail.cancel());
      // The status line and headers go out at once, not with the first log bytes (a job may be
      // PENDING for minutes): clients then know the job exists and wait without a deadline.
      reply.raw.once('pipe', () => reply.raw.flushHeaders());
      void tail.run().then(() => body.end());
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(body);
    });
  };
}
