/**
 * The route plugins of the head's HTTP API, made from the head's in-process state. Each part of the
 * API (state API, jobs, /metrics) adds its plugin factory here; `main.ts` hands the list to
 * `startDashboard`, which registers them behind the security hook.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { HeadState } from '@rayts/gcs';

export function headRoutes(_state: HeadState): FastifyPluginAsync[] {
  return [];
}
