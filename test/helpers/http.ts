/**
 * A bare HTTP(S) client for tests of the head's HTTP API: node's http module, so a test can send any
 * Host, Origin, Cookie or Authorization header (fetch forbids setting Host) and any body.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

export interface HttpCall {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** CA for an https URL. */
  ca?: Buffer;
}

/** Sends one request to `baseUrl + path`; rejects only when no HTTP answer came (refused, reset, TLS). */
export function http(baseUrl: string, path: string, call: HttpCall = {}): Promise<HttpAnswer> {
  const url = new URL(path, baseUrl);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string | number> = { ...call.headers };
  if (call.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = Buffer.byteLength(call.body);
  return new Promise((resolve, reject) => {
    const req = send(url, { method: call.method ?? 'GET', headers, ca: call.ca, timeout: 15_000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.href} within 15 s`)));
    req.on('error', reject);
    req.end(call.body);
  });
}

/** A route pattern made concrete (`/api/actors/:id` → `/api/actors/x`, wildcards too). */
export function concretePath(pattern: string): string {
  return pattern.replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, 'x').replace(/\*/g, 'x');
}
