/**
 * The head's HTTP API server (fastify). `startDashboard` composes it bottom-up: its collaborators
 * (session cookies, authenticator, Host guard, route table), the security hook, the error replies,
 * the server's own routes and then the route plugins it is given (state API, metrics, …), and
 * listens. Fastify's own logger is off: the dashboard logs to `<session>/logs/dashboard.log` through
 * the logger it is given, never a header, a cookie or the token.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { LogThrottle, type Config, type Logger, type TlsFiles } from '@rayts/common';
import { Authenticator, SessionCookies } from './auth.js';
import { HostGuard, type Scheme } from './guards.js';
import { RouteTable } from './route_table.js';
import { registerSecurity } from './security.js';
import { registerErrorReplies } from './error_replies.js';
import { coreRoutes } from './core_routes.js';
import { sessionRoutes } from './session_routes.js';
import { baseUrl, listen } from './listen.js';
import { pathOf } from './log_fields.js';
import { needsPlainHttpWarning, plainHttpWarning } from './dashboard_flags.js';

export interface DashboardOptions {
  /** Address to bind (--dashboard-host). */
  host: string;
  /** Port to bind (--dashboard-port; 0 = any free port). */
  port: number;
  /** The host the URL names when `host` is every interface (0.0.0.0, ::): the node's IP. */
  advertiseHost: string;
  token: string;
  clusterId: string;
  /** With TLS the server speaks HTTPS with the cluster's certificate and key. */
  tls?: TlsFiles;
  config: Pick<Config, 'dashboardBodyLimitBytes' | 'dashboardSessionTtlS' | 'authFailureLogIntervalMs' | 'jobPackageMaxBytes'>;
  /** The head's session (`session_<time>_<pid>`), shown by `GET /api/version`. */
  sessionName?: string;
  logger: Logger;
  /** Route plugins, registered after the security hook and the server's own routes. */
  routes: FastifyPluginAsync[];
  /** `GET /metrics` is served without the token (`--metrics-auth=false`). */
  publicMetrics?: boolean;
}

export interface RunningDashboard {
  /** Base URL, `http(s)://host:port`. */
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

function createApp(options: DashboardOptions): FastifyInstance {
  const common = {
    logger: false, bodyLimit: options.config.dashboardBodyLimitBytes,
    forceCloseConnections: true, return503OnClosing: true,
  } as const;
  // The https overload types the instance for https.Server; the routes do not care which.
  return (options.tls
    ? Fastify({ ...common, https: { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) } })
    : Fastify(common)) as unknown as FastifyInstance;
}

/**
 * The server with its hooks and routes, ready but not listening (`startDashboard` listens; tests
 * call `inject` on it).
 */
export async function createDashboardApp(options: DashboardOptions): Promise<FastifyInstance> {
  return (await buildApp(options)).app;
}

async function buildApp(options: DashboardOptions): Promise<{ app: FastifyInstance; routeTable: RouteTable }> {
  const { config, logger } = options;
  const scheme: Scheme = options.tls ? 'https' : 'http';
  const cookies = new SessionCookies(options.token, config.dashboardSessionTtlS * 1000);
  const authenticator = new Authenticator(options.token, cookies);
  const routeTable = new RouteTable();
  const app = createApp(options);
  routeTable.attach(app);
  await app.register(fastifyCookie);
  const hostGuard = new HostGuard(options.host, () => (app.server.address() as AddressInfo | null)?.port ?? 0);
  registerSecurity(app, { scheme, authenticator, hostGuard, logger, throttle: new LogThrottle(config.authFailureLogIntervalMs), publicMetrics: !!options.publicMetrics });
  registerErrorReplies(app, logger);
  app.addHook('onResponse', async (request, reply) => {
    logger.debug('request', { method: request.method, path: pathOf(request), status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
  });
  await app.register(coreRoutes({ clusterId: options.clusterId, routeTable, sessionName: options.sessionName, packageMaxBytes: config.jobPackageMaxBytes }));
  await app.register(sessionRoutes({ authenticator, cookies, secure: scheme === 'https', logger }));
  for (const plugin of options.routes) await app.register(plugin);
  return { app, routeTable };
}

export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const { logger } = options;
  const scheme: Scheme = options.tls ? 'https' : 'http';
  const { app, routeTable } = await buildApp(options);
  const port = await listen(app, options.host, options.port);
  const url = baseUrl(scheme, options.host, options.advertiseHost, port);
  logger.info('the HTTP API listens', { url, bind: options.host, port, routes: routeTable.list().length });
  if (needsPlainHttpWarning(options.host, !!options.tls)) logger.warn(plainHttpWarning(options.host));
  return {
    url, host: options.host, port,
    async stop() {
      await app.close();
      logger.info('the HTTP API stopped');
    },
  };
}
