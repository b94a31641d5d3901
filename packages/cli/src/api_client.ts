/**
 * A small client of the head's HTTP API (`rayts list`, `rayts job`, … call it): JSON in and out over
 * node:http or node:https (verifying the server against the cluster CA when given), the token as
 * `Authorization: Bearer`, a deadline per request. An error status throws ApiError with the status
 * and the server's `{ error }` message; no answer at all throws ApiUnreachableError (exit 3).
 */
import { createReadStream } from 'node:fs';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { bearer } from '@rayts/common';
import { ApiError, ApiTlsError, ApiUnreachableError } from './errors.js';

export type QueryValue = string | number | boolean | undefined | readonly (string | number)[];

export interface ApiClientOptions {
  /** `http(s)://host:port` (a path prefix is kept). */
  baseUrl: string;
  token: string;
  /** PEM of the CA that signed the server's certificate (https). */
  ca?: string | Buffer;
  /** Deadline of one request (default 30 s). */
  timeoutMs?: number;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ETIMEDOUT']);
/** Most bytes of a response the client reads (a listing of a big cluster stays far below). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

function isTlsFailure(err: NodeJS.ErrnoException): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/.test(err.code ?? '');
}

export class ApiClient {
  private readonly base: URL;
  private readonly timeoutMs: number;

  constructor(private readonly options: ApiClientOptions) {
    this.base = new URL(options.baseUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new ApiUnreachableError(`the API address ${options.baseUrl} is not an http:// or https:// URL`);
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get baseUrl(): string {
    return this.base.origin + this.base.pathname.replace(/\/$/, '');
  }

  get<T>(path: string, query?: Record<string, QueryValue>): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, undefined, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /**
   * GETs a streamed answer (a log file, followed): each chunk goes to `onData` as it comes, with no
   * deadline once the server answered; `cancel` ends it. An error status rejects `done` like get().
   */
  stream(path: string, query: Record<string, QueryValue>, onData: (chunk: Buffer) => void): { done: Promise<void>; cancel(): void } {
    const url = this.url(path, query);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let cancelled = false;
    let req: ReturnType<typeof send> | undefined;
    const done = new Promise<void>((resolve, reject) => {
      req = send(url, { method: 'GET', headers: { authorization: bearer(this.options.token) }, ca: this.options.ca, timeout: this.timeoutMs }, (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          readBody(res).then((text) => {
            const parsed = parseJson(text) as { error?: unknown; hint?: unknown } | undefined;
            const message = typeof parsed?.error === 'string' ? parsed.error : (res.statusMessage || 'no message');
            reject(new ApiError(status, message, 'GET', url.pathname, typeof parsed?.hint === 'string' ? parsed.hint : hintFor(status)));
          }, reject);
          return;
        }
        req!.setTimeout(0);
        res.on('data', onData);
        res.on('end', () => resolve());
        res.on('error', (err) => (cancelled ? resolve() : reject(err)));
        res.on('close', () => { if (cancelled) resolve(); });
      });
      req.on('timeout', () => req!.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => (cancelled ? resolve() : reject(this.connectionError(err))));
      req.end();
    });
    return { done, cancel: () => { cancelled = true; req?.destroy(); } };
  }

  private url(path: string, query?: Record<string, QueryValue>): URL {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + (path.startsWith('/') ? path : `/${path}`), this.base);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
    }
    return url;
  }

  /**
   * PUTs a file as `application/octet-stream` with its length, streamed from disk (never read
   * whole); `onProgress(sentBytes, totalBytes)` follows the bytes read for sending.
   */
  putFile<T>(path: string, file: string, size: number, onProgress?: (sentBytes: number, totalBytes: number) => void): Promise<T> {
    const headers = { 'content-type': 'application/octet-stream', 'content-length': size };
    return this.exchange<T>('PUT', this.url(path), headers, (req, fail) => {
      const source = createReadStream(file);
      let sent = 0;
      source.on('data', (chunk) => {
        sent += chunk.length;
        onProgress?.(sent, size);
      });
      // A server that answers early (a refusal) closes the connection: its answer is what counts.
      pipeline(source, req).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT' || err.code === 'EACCES') fail(err); });
    });
  }

  private request<T>(method: string, path: string, query?: Record<string, QueryValue>, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = {};
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    return this.exchange<T>(method, this.url(path, query), headers, (req) => req.end(payload));
  }

  /** One request whose JSON answer resolves (2xx) or rejects as ApiError; `writeBody` sends the body. */
  private exchange<T>(method: string, url: URL, extraHeaders: Record<string, string | number>,
    writeBody: (req: ClientRequest, fail: (err: Error) => void) => void): Promise<T> {
    const headers: Record<string, string | number> = { authorization: bearer(this.options.token), accept: 'application/json', ...extraHeaders };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const req = send(url, { method, headers, ca: this.options.ca, timeout: this.timeoutMs }, (res) => {
        answered = true;
        readBody(res).then((text) => {
          const status = res.statusCode ?? 0;
          const parsed = parseJson(text);
          if (status >= 200 && status < 300) {
            resolve(parsed as T);
            return;
          }
          const message = typeof (parsed as { error?: unknown })?.error === 'string' ? (parsed as { error: string }).error : (res.statusMessage || 'no message');
          const serverHint = (parsed as { hint?: unknown })?.hint;
          reject(new ApiError(status, message, method, url.pathname, typeof serverHint === 'string' ? serverHint : hintFor(status)));
        }, reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => { if (!answered) reject(this.connectionError(err)); });
      writeBody(req, (err) => { req.destroy(); reject(err); });
    });
  }

  private connectionError(err: NodeJS.ErrnoException): Error {
    const where = this.baseUrl;
    if (err.code === 'ETIMEDOUT') {
      return new ApiUnreachableError(`the rayts API at ${where} did not answer within ${Math.round(this.timeoutMs / 1000)} s`,
        'check that the head runs (`rayts status`); raise RAYTS_API_REQUEST_TIMEOUT_MS for slow clusters');
    }
    if (isTlsFailure(err)) {
      return new ApiTlsError(`cannot verify the TLS certificate of the rayts API at ${where}: ${err.message}`,
        'set RAYTS_TLS_CA to the cluster\'s CA file (the certificate must name the address you use)');
    }
    if (CONNECTION_CODES.has(err.code ?? '') || /socket hang up/.test(err.message)) {
      return new ApiUnreachableError(`cannot reach the rayts API at ${where} (${err.code ?? err.message})`,
        this.base.protocol === 'http:'
          ? 'check that the head runs (`rayts status`) with its dashboard on; a cluster with TLS serves https://'
          : 'check that the head runs (`rayts status`) with its dashboard on');
    }
    return err;
  }
}

function hintFor(status: number): string | undefined {
  if (status === 401) return 'pass the cluster token with --token-file or RAYTS_TOKEN (`rayts get-auth-token` on the head prints it)';
  if (status === 421) return 'address the API by one of the head\'s own addresses (the URL `rayts start` printed)';
  return undefined;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        res.destroy(new Error(`the API's answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
