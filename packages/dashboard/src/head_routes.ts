/**
 * The route plugins of the head's HTTP API, made from the head's in-process state. Each part of the
 * API (state API, logs, jobs, /metrics) adds its plugin factory here; `main.ts` hands the list to
 * `startDashboard`, which registers them behind the security hook.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { HeadState } from '@rayts/gcs';
import { headSources } from './state/head_sources.js';
import { stateRoutes } from './state/routes.js';
import { logRoutes } from './state/log_routes.js';
import { nodeStatsRoutes } from './state/node_stats_routes.js';
import { jobRoutes } from './jobs/job_routes.js';
import { packageRoutes } from './jobs/package_routes.js';

export function headRoutes(state: HeadState): FastifyPluginAsync[] {
  const sources = headSources(state);
  return [
    stateRoutes(sources), logRoutes(sources), nodeStatsRoutes(sources),
    jobRoutes({ jobs: state.jobSubmissions, sources }), packageRoutes({ packages: state.packages }),
  ];
}
