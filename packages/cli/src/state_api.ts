/**
 * The head's HTTP API as the state commands use it: the ApiClient, with the server's refusals turned
 * into the CLI's exits — a bad parameter (400) is a usage error (exit 2), an unknown id (404) one
 * "not found" line (exit 1).
 */
import { RaytsError, UsageError, type Config } from '@rayts/common';
import { apiClientFor, resolveApiTarget } from './api_target.js';
import type { ApiClient } from './api_client.js';
import type { TargetOptions } from './discovery.js';
import type { LogStreamApi } from './commands/entity_logs.js';
import { ApiError } from './errors.js';

/** The CLI's exit for a refusal of the API: 400 → usage error (exit 2), 404 → one "not found" line (exit 1). */
export function mapApiError(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  if (err.status === 400) return new UsageError(err.serverMessage, err.hint);
  if (err.status === 404) return new RaytsError(err.serverMessage);
  return err;
}

export function stateApiOf(client: ApiClient): LogStreamApi {
  return {
    get<T>(path: string, query?: Record<string, string | string[] | undefined>): Promise<T> {
      return client.get<T>(path, query).catch((err: unknown) => { throw mapApiError(err); });
    },
    stream: (path, query, onData) => {
      const s = client.stream(path, query, onData);
      return { done: s.done.catch((err: unknown) => { throw mapApiError(err); }), cancel: s.cancel };
    },
  };
}

/** The API of the cluster the options name (see api_target.ts). */
export async function connectStateApi(options: TargetOptions, config: Config): Promise<LogStreamApi> {
  return stateApiOf(apiClientFor(await resolveApiTarget(options, config), config));
}
