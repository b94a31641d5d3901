import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { PortInUseError, nullLogger } from '@rayts/common';
import { startMetricsServer, type MetricsServer } from './metrics_server.js';

const TOKEN = 'e'.repeat(64);
let servers: MetricsServer[] = [];
let blocker: Server | undefined;
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
  blocker?.close();
  blocker = undefined;
});

function registry(): Registry {
  const r = new Registry();
  new Gauge({ name: 'rayts_test_value', help: 'a value', registers: [r], collect() { this.set(42); } });
  return r;
}

async function start(token: string | undefined, port = 0): Promise<MetricsServer> {
  const s = await startMetricsServer({ source: registry(), host: '127.0.0.1', port, token, authFailureLogIntervalMs: 60_000, logger: nullLogger });
  servers.push(s);
  return s;
}

describe('the raylet metrics endpoint', () => {
  it('serves the registry to a scrape with the cluster token, and 401 without it or with another', async () => {
    const s = await start(TOKEN);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/metrics`);
    const ok = await fetch(s.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await ok.text()).toMatch(/^rayts_test_value 42$/m);
    for (const headers of [{}, { authorization: `Bearer ${'f'.repeat(64)}` }, { authorization: 'Bearer x' }, { authorization: TOKEN }]) {
      const refused = await fetch(s.url, { headers });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('Bearer');
      expect(await refused.text()).not.toContain('rayts_test_value');
    }
  });

  it('serves without a token when auth is off', async () => {
    const s = await start(undefined);
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^rayts_test_value 42$/m);
  });

  it('answers other paths with 404 and nothing of the registry', async () => {
    const s = await start(TOKEN);
    const res = await fetch(`http://127.0.0.1:${s.port}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
  });

  it('says which port is taken and which flag moves it', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const err = await start(TOKEN, port).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toContain(`metrics export port ${port} on 127.0.0.1 is already in use`);
    expect((err as PortInUseError).hint).toContain('--metrics-export-port');
  });
});
