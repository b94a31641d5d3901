/** The dashboard package's errors. */
import { RaytsError } from '@rayts/common';

/** A request parameter of the HTTP API is wrong; answered 400 with the parameter named. */
export class BadQueryError extends RaytsError {
  readonly statusCode = 400;
  constructor(readonly parameter: string, problem: string, hint?: string) {
    super(`bad ${parameter}: ${problem}${hint ? ` (${hint})` : ''}`, hint);
  }
}

/** The thing asked for does not exist; answered 404. */
export class NotFoundError extends RaytsError {
  readonly statusCode = 404;
}
