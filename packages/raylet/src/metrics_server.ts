/**
 * The node's Prometheus endpoint: `GET /metrics` on the node IP and `--metrics-export-port` (0 = any
 * free port), HTTPS with the cluster certificate when TLS is configured. Scrapes must present the
 * cluster token (`Authorization: Bearer <token>`, checked in constant time) unless the node was
 * started with `--metrics-auth=false`; a missing or wrong token gets 401 and nothing else.
 */
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { PortInUseError, checkBearer, formatAddress, type Logger, type TlsFiles } from '@rayts/common';

/** What the endpoint serves (a prom-client Registry, or anything that formats like one). */
export interface ScrapeSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServerOptions {
  source: ScrapeSource;
  host: string;
  port: number;
  /** The cluster token every scrape must present; undefined serves without one (--metrics-auth=false). */
  token: string | undefined;
  tls?: TlsFiles;
  /** Refused scrapes are logged at most this often. */
  authFailureLogIntervalMs: number;
  logger: Logger;
}

export interface MetricsServer {
  port: number;
  /** `http(s)://ip:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

function httpsOptions(tls: TlsFiles | undefined): { https: { key: Buffer; cert: Buffer; ca: Buffer } } | Record<string, never> {
  if (!tls) return {};
  return { https: { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile), ca: readFileSync(tls.caFile) } };
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { source, token, logger } = options;
  // Fastify's own logger stays off: nothing it would print (headers included) reaches a log.
  const app = Fastify({ logger: false, ...httpsOptions(options.tls) });
  let lastRefusalLogged = 0;
  app.get('/metrics', async (request, reply) => {
    if (token !== undefined) {
      const check = checkBearer(request.headers.authorization, token);
      if (check !== 'ok') {
        const now = Date.now();
        if (now - lastRefusalLogged >= options.authFailureLogIntervalMs) {
          lastRefusalLogged = now;
          logger.warn('refused a metrics scrape', { peer: request.ip, reason: check === 'wrong' ? 'wrong token' : 'no token' });
        }
        return reply.code(401).header('www-authenticate', 'Bearer realm="rayts"').type('text/plain')
          .send(check === 'wrong' ? 'wrong cluster token\n' : 'missing cluster token (Authorization: Bearer <token>)\n');
      }
    }
    const text = await source.metrics();
    return reply.type(source.contentType).send(text);
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw listenError(err as NodeJS.ErrnoException, options.host, options.port);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `${options.tls ? 'https' : 'http'}://${formatAddress(options.host, port)}/metrics`;
  return { port, url, close: () => app.close() };
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') {
    return new PortInUseError(`metrics export port ${port} on ${host} is already in use`,
      `another process holds it (see \`ss -ltnp 'sport = :${port}'\`); stop it or choose another port with --metrics-export-port`);
  }
  if (err.code === 'EADDRNOTAVAIL') {
    return new PortInUseError(`cannot serve metrics on ${formatAddress(host, port)}: ${host} is not an address of this host`,
      'pass --node-ip-address with an address of one of this host\'s interfaces');
  }
  return new PortInUseError(`cannot serve metrics on ${formatAddress(host, port)}: ${err.message}`);
}
