/**
 * Browser sessions: `POST /api/login` with `{ "token": "<cluster token>" }` (at most 1 KiB) sets the
 * session cookie (HttpOnly, SameSite=Strict, Path=/, Secure with TLS; its value is derived from the
 * token, see auth.ts); `POST /api/logout` (authenticated) revokes and clears it; `GET /api/session`
 * (public) says whether the request's credentials are valid, so the web page knows whether to show
 * its login form without provoking a 401.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '@rayts/common';
import { SESSION_COOKIE, type Authenticator, type SessionCookies } from './auth.js';
import { BadRequestError, UnauthorizedError } from './errors.js';

export const LOGIN_BODY_LIMIT_BYTES = 1024;

export interface SessionRoutesOptions {
  authenticator: Authenticator;
  cookies: SessionCookies;
  /** Sets the Secure attribute (the server speaks HTTPS). */
  secure: boolean;
  logger: Logger;
}

export function sessionRoutes(options: SessionRoutesOptions): FastifyPluginAsync {
  const { authenticator, cookies, secure, logger } = options;
  const attributes = { httpOnly: true, sameSite: 'strict', path: '/', secure } as const;
  return async (app) => {
    app.post('/api/login', { bodyLimit: LOGIN_BODY_LIMIT_BYTES }, async (request, reply) => {
      const body = request.body as { token?: unknown } | null | undefined;
      if (typeof body !== 'object' || body === null || typeof body.token !== 'string') {
        throw new BadRequestError('login takes a JSON body {"token": "<cluster token>"}', '`rayts get-auth-token` on the head prints the token');
      }
      if (!authenticator.isToken(body.token)) throw new UnauthorizedError('wrong cluster token');
      const cookie = cookies.issue();
      logger.info('a browser session started', { ip: request.ip, expiresAtMs: cookie.expiresAtMs });
      reply.setCookie(SESSION_COOKIE, cookie.value, { ...attributes, maxAge: cookie.maxAgeS });
      return { ok: true, expiresAtMs: cookie.expiresAtMs };
    });
    app.get('/api/session', async (request) => ({
      authenticated: authenticator.authenticate(request.headers.authorization, request.cookies[SESSION_COOKIE]).ok,
    }));
    app.post('/api/logout', async (request, reply) => {
      const presented = request.cookies[SESSION_COOKIE];
      if (presented !== undefined) cookies.revoke(presented);
      reply.clearCookie(SESSION_COOKIE, attributes);
      return { ok: true };
    });
  };
}
