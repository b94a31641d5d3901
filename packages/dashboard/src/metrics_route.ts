/**
 * `GET /metrics` on the head's HTTP server: the head's Prometheus registry (ClusterMetrics) in the
 * text format. The token check is the server's own (its auth hook runs before every route; with
 * `--metrics-auth=false` the server counts this route among the public ones, as the raylets do).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export function metricsRoute(registry: Registry): FastifyPluginAsync {
  return async (app) => {
    app.get('/metrics', async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    });
  };
}
