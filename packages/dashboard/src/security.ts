/**
 * The security hook every request passes first (`onRequest`, so before fastify reads or parses a
 * body): response headers that keep browsers safe, then the Host guard (421), authentication (401,
 * except on the public routes) and the CSRF guard (403). Refusals are logged without credentials,
 * at most once per interval per client address and status.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LogThrottle, Logger } from '@rayts/common';
import { SESSION_COOKIE, type AuthMethod, type Authenticator } from './auth.js';
import { crossSiteRefusal, ownOrigin, type HostGuard, type Scheme } from './guards.js';
import { ForbiddenError, MisdirectedRequestError, UnauthorizedError, type HttpError } from './errors.js';
import { sendError } from './error_replies.js';
import { pathOf } from './log_fields.js';
import { WEB_PUBLIC_ROUTES } from './web/web_routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** How the request was authenticated; null on the public routes. */
    raytsAuth: AuthMethod | null;
  }
}

/** The only routes a client without credentials may use (by method and route pattern): health, login, the session check and the web page's files. */
const PUBLIC_ROUTES = new Set(['GET /api/healthz', 'HEAD /api/healthz', 'POST /api/login', 'GET /api/session', ...WEB_PUBLIC_ROUTES]);
/** With `--metrics-auth=false` Prometheus scrapes the head's metrics without the token. */
const PUBLIC_METRICS_ROUTES = new Set([...PUBLIC_ROUTES, 'GET /metrics']);

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface SecurityOptions {
  scheme: Scheme;
  hostGuard: HostGuard;
  authenticator: Authenticator;
  logger: Logger;
  throttle: LogThrottle;
  /** `GET /metrics` needs no token (`--metrics-auth=false`). */
  publicMetrics: boolean;
}

export function isPublicRoute(request: FastifyRequest, publicRoutes: ReadonlySet<string> = PUBLIC_ROUTES): boolean {
  return !request.is404 && publicRoutes.has(`${request.method} ${request.routeOptions.url}`);
}

export function registerSecurity(app: FastifyInstance, options: SecurityOptions): void {
  const { scheme, hostGuard, authenticator, logger, throttle } = options;
  const publicRoutes = options.publicMetrics ? PUBLIC_METRICS_ROUTES : PUBLIC_ROUTES;
  app.decorateRequest('raytsAuth', null);

  const refuse = (request: FastifyRequest, reply: FastifyReply, error: HttpError, reason: string): FastifyReply => {
    if (throttle.allow(`${request.ip} ${error.statusCode}`)) {
      logger.warn('refused a request', {
        status: error.statusCode, reason, method: request.method, path: pathOf(request), ip: request.ip,
        host: String(request.headers.host ?? '').slice(0, 100),
      });
    }
    return sendError(reply, error);
  };

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    const host = request.headers.host;
    if (!hostGuard.allows(host, scheme)) {
      return refuse(request, reply, new MisdirectedRequestError(
        `the Host header '${String(host ?? '').slice(0, 100)}' does not name this server; requests must be addressed to it by one of its own addresses (DNS-rebinding protection)`,
        'address it by the URL `rayts start --head` printed (the head\'s own address and dashboard port)'), 'host not allowed');
    }
    if (!isPublicRoute(request, publicRoutes)) {
      const result = authenticator.authenticate(request.headers.authorization, request.cookies[SESSION_COOKIE]);
      if (!result.ok) return refuse(request, reply, new UnauthorizedError(result.message, result.hint), result.reason);
      request.raytsAuth = result.method;
    }
    const header = (name: string) => {
      const v = request.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const why = crossSiteRefusal({
      method: request.method, origin: header('origin'), secFetchSite: header('sec-fetch-site'),
      own: ownOrigin(scheme, host!), viaCookie: request.raytsAuth === 'cookie',
    });
    if (why) return refuse(request, reply, new ForbiddenError(why), 'cross-site');
    return undefined;
  });
}
