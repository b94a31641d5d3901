/** What the dashboard's log shows of a request: never its headers (credentials), nor its query string. */
import type { FastifyRequest } from 'fastify';

export function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0]!.slice(0, 200);
}
