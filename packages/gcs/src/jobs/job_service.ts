/**
 * JobService: drivers register and finish their jobs; raylets ask for a job's runtime env and report
 * the submitted jobs' drivers they run. Every field is validated before use.
 */
import * as grpc from '@grpc/grpc-js';
import { RpcError, RuntimeEnvError, parseRuntimeEnvJson, raytsProto, require, unary, withRequestSchemas, type Logger } from '@rayts/common';
import { jobServiceSchemas } from '../request_schemas.js';
import type { HeadContext } from '../services.js';

const MAX_ID = 128;

export function addJobService(server: grpc.Server, ctx: HeadContext): void {
  const { logger, jobs, jobSubmissions } = ctx;
  const service = raytsProto().JobService.service;
  server.addService(service, withRequestSchemas(service, jobServiceSchemas, {
    RegisterJob: unary(logger, 'RegisterJob', (req) => {
      require(req.submissionId.length <= MAX_ID, `submission_id is at most ${MAX_ID} characters`);
      validRuntimeEnv(req.runtimeEnvJson);
      const jobId = jobs.register(req.nodeId.slice(0, 64), req.driverPid, req.entrypoint, req.jobDir, req.submissionId, req.runtimeEnvJson);
      logger.info('job started', { jobId, nodeId: req.nodeId, driverPid: req.driverPid, submissionId: req.submissionId || undefined });
      return { jobId };
    }),
    FinishJob: unary(logger, 'FinishJob', (req) => {
      // Out of order (a job the head never registered): nothing changes.
      if (!jobs.get(req.jobId)) throw new RpcError(grpc.status.NOT_FOUND, `the head knows no job ${req.jobId}`);
      if (jobs.markFinished(req.jobId)) logger.info('job finished', { jobId: req.jobId });
      // Also when it was finished already: the raylet reports a vanished driver after its own shutdown call.
      ctx.actors.onJobFinished(req.jobId);
      void ctx.placementGroups?.removeJobGroups(req.jobId);
      ctx.taskEvents?.markJobFinished(req.jobId);
      return {};
    }),
    GetJobRuntimeEnv: unary(logger, 'GetJobRuntimeEnv', (req) => {
      const job = jobs.get(req.jobId);
      return { found: !!job, runtimeEnvJson: job?.runtimeEnvJson ?? '', finished: !job || job.state !== 'RUNNING' };
    }),
    ReportJobDriver: unary(logger, 'ReportJobDriver', (req) => {
      require(req.submissionId.length > 0 && req.submissionId.length <= MAX_ID, `submission_id must be 1..${MAX_ID} characters`);
      jobSubmissions.onDriverState(req);
      return {};
    }),
  }));
}

function validRuntimeEnv(json: string): void {
  try {
    parseRuntimeEnvJson(json);
  } catch (err) {
    require(!(err instanceof RuntimeEnvError), (err as Error).message);
    throw err;
  }
}

export type { Logger };
