import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Registry } from 'prom-client';
import { metricsRoute } from './metrics_route.js';

let app: FastifyInstance | undefined;
afterEach(async () => { await app?.close(); app = undefined; });

function registryWithOneCounter(): Registry {
  const registry = new Registry();
  const c = new Counter({ name: 'rayts_test_things_total', help: 'things', registers: [registry] });
  c.inc(3);
  return registry;
}

describe('metricsRoute', () => {
  it('serves the registry in the Prometheus text format', async () => {
    app = Fastify({ logger: false });
    await app.register(metricsRoute(registryWithOneCounter()));
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(res.body).toContain('# TYPE rayts_test_things_total counter');
    expect(res.body).toMatch(/^rayts_test_things_total 3$/m);
  });

  it('serves over a real socket too', async () => {
    app = Fastify({ logger: false });
    await app.register(metricsRoute(registryWithOneCounter()));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${address.port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^rayts_test_things_total 3$/m);
  });
});
