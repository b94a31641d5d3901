/**
 * Every error leaves as JSON `{ error, hint? }` with its status: HttpErrors and fastify's own client
 * errors (413 body too large, 400 bad JSON, 415 content type) as they are, rayts errors a handler
 * throws by their meaning (not found 404, exists 409, package too large 413, bad input 400), and
 * anything else as a 500 whose message is generic (the stack goes to dashboard.log only). Unknown routes get 404, which only authenticated clients ever see.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import {
  AlreadyExistsError, InvalidRequestError, NotFoundError, PackageRejectedError, PackageTooLargeError, RuntimeEnvError, UsageError, type Logger,
} from '@rayts/common';
import { HttpError, RouteNotFoundError } from './errors.js';
import { pathOf } from './log_fields.js';

export function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  return reply.code(error.statusCode).type('application/json; charset=utf-8')
    .send(error.hint ? { error: error.message, hint: error.hint } : { error: error.message });
}

/** The HttpError a thrown value answers as, or undefined for a server fault (500). */
function asHttpError(err: unknown, bodyLimit: number | undefined): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof NotFoundError) return new HttpError(404, err.message, err.hint);
  if (err instanceof AlreadyExistsError) return new HttpError(409, err.message, err.hint);
  // A working_dir package over the head's limit: the message names the limit.
  if (err instanceof PackageTooLargeError) return new HttpError(413, err.message, err.hint);
  // A runtime env field or a package the head refuses: the message names the field or the entry.
  if (err instanceof RuntimeEnvError || err instanceof PackageRejectedError) return new HttpError(400, err.message, err.hint);
  if (err instanceof UsageError || err instanceof InvalidRequestError) return new HttpError(400, err.message, err.hint);
  const e = err as Partial<FastifyError>;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new HttpError(413, `the request body is larger than this route accepts${bodyLimit ? ` (${bodyLimit} bytes)` : ''}`,
      'the API\'s limit is RAYTS_DASHBOARD_BODY_LIMIT_BYTES on the head');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new HttpError(e.statusCode, e.message ?? 'bad request');
  return undefined;
}

export function registerErrorReplies(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err, request, reply) => {
    const known = asHttpError(err, request.routeOptions.bodyLimit);
    if (known) return sendError(reply, known);
    logger.error('request failed', { method: request.method, path: pathOf(request), err });
    return sendError(reply, new HttpError(500, 'internal error', 'the head\'s dashboard.log has the details'));
  });
  app.setNotFoundHandler((request, reply) => sendError(reply,
    new RouteNotFoundError(`no route ${request.method} ${pathOf(request)}`, 'GET /api/routes lists them')));
}
