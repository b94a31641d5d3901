/**
 * The web page on the head's HTTP server: `GET /` (index.html, never cached: it names the current
 * bundles) and `GET /assets/<name>` (content-hashed, cached for a year). Both are public — the login
 * page must load without the token — and hold no cluster data; every `/api` route still needs the
 * token or the session cookie. They carry a Content-Security-Policy that allows only this origin and
 * no inline script, and are sent gzip-compressed to clients that accept it.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { RouteNotFoundError, ServiceUnavailableError } from '../errors.js';
import type { WebAssets, WebFile } from './web_assets.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'", "font-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** The routes a browser may load without credentials (the security hook's public list adds them). */
export const WEB_PUBLIC_ROUTES = ['GET /', 'HEAD /', 'GET /assets/:name', 'HEAD /assets/:name'] as const;

const LONG_CACHE = 'public, max-age=31536000, immutable';

function send(request: FastifyRequest, reply: FastifyReply, file: WebFile, cacheControl: string): FastifyReply {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('cache-control', cacheControl)
    .header('vary', 'accept-encoding').type(file.contentType);
  const accepts = String(request.headers['accept-encoding'] ?? '');
  if (file.gzip && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}

export function webRoutes(assets: WebAssets): FastifyPluginAsync {
  return async (app) => {
    app.get('/', async (request, reply) => {
      if (!assets.index) {
        throw new ServiceUnavailableError(`the dashboard's web page is not built (no ${assets.dir}/index.html); the HTTP API works without it`,
          'build it with `npm run build:web` in the rayts checkout (`npm ci` and `npm run build` do it too), then restart the head');
      }
      return send(request, reply, assets.index, 'no-cache');
    });
    app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
      const file = assets.asset(request.params.name);
      if (!file) throw new RouteNotFoundError(`no web asset named ${request.params.name.slice(0, 100)}`, 'reload the page: the head may run a newer build');
      return send(request, reply, file, LONG_CACHE);
    });
  };
}
