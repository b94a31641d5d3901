/**
 * The HTTP API's errors: each carries the status the client gets, with `{ error: message }` (and
 * `hint` when there is one) as the body. Route handlers throw them; `error_replies.ts` sends them.
 */
import { RaytsError } from '@rayts/common';

export class HttpError extends RaytsError {
  constructor(readonly statusCode: number, message: string, hint?: string) {
    super(message, hint);
  }
}

/** 400: the request is malformed; the message says which part. */
export class BadRequestError extends HttpError {
  constructor(message: string, hint?: string) { super(400, message, hint); }
}

/** 401: no credentials, a malformed Authorization header, a wrong token or an invalid session cookie. */
export class UnauthorizedError extends HttpError {
  constructor(message: string, hint?: string) { super(401, message, hint); }
}

/** 403: a cross-site state change (CSRF guard). */
export class ForbiddenError extends HttpError {
  constructor(message: string, hint?: string) { super(403, message, hint); }
}

/** 404: no such route (only ever sent to authenticated clients). */
export class RouteNotFoundError extends HttpError {
  constructor(message: string, hint?: string) { super(404, message, hint); }
}

/** 421: the Host header names no address this server listens on (DNS-rebinding guard). */
export class MisdirectedRequestError extends HttpError {
  constructor(message: string, hint?: string) { super(421, message, hint); }
}

/** 400: a parameter of a state query is wrong (the message names it). */
export class BadQueryError extends BadRequestError {
  constructor(readonly parameter: string, problem: string, hint?: string) {
    super(`bad ${parameter}: ${problem}`, hint);
  }
}

/** 503: a part of the server is not available (e.g. the web page was not built). */
export class ServiceUnavailableError extends HttpError {
  constructor(message: string, hint?: string) { super(503, message, hint); }
}
