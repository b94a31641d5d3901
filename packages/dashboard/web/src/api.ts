/**
 * The page's client of the head's HTTP API. Requests carry the session cookie (same origin); a 401
 * becomes an UnauthorizedError (the app then shows the login page), any other failure an ApiError
 * whose message is the server's `{error, hint}` or what went wrong on the way.
 */

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export class UnauthorizedError extends ApiError {
  constructor(message: string) {
    super(401, message);
    this.name = 'UnauthorizedError';
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: string; hint?: string };
    if (body.error) message = body.hint ? `${body.error} (${body.hint})` : body.error;
  } catch { /* not JSON: keep the status line */ }
  return response.status === 401 ? new UnauthorizedError(message) : new ApiError(response.status, message);
}

async function call(path: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...init });
  } catch (err) {
    throw new ApiError(0, `the head's HTTP API did not answer (${(err as Error).message})`);
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await (await call(path, { signal })).json()) as T;
}

export async function getText(path: string, signal?: AbortSignal): Promise<string> {
  return (await call(path, { signal })).text();
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await response.json()) as T;
}

/** A query string from parameters; arrays repeat the key (the state API's `filter`). */
export function query(params: Record<string, string | number | boolean | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of [value].flat()) q.append(key, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * How long the head waits for each raylet when a page asks for per-node data (stats, workers,
 * objects): a node that does not answer is left out with a warning instead of stalling the page.
 */
export const NODE_TIMEOUT_S = 2;
