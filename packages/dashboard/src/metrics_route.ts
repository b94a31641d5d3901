/**
 * `GET /metrics` on the head's HTTP server: the head's Prometheus registry (ClusterMetrics) in the
 * text format. The token check is the server's own (its auth hook runs before every route); the route
 * says in its config whether it needs one (`config.auth`), so that with `--metrics-auth=false` the
 * hook lets scrapes through without a token, as the raylets' endpoints do.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export interface MetricsRouteOptions {
  /** Whether a scrape must present the cluster token (the dashboard's auth hook enforces it). */
  auth: boolean;
}

export function metricsRoute(registry: Registry, options: MetricsRouteOptions): FastifyPluginAsync {
  return async (app) => {
    app.get('/metrics', { config: { auth: options.auth } }, async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    });
  };
}
