/**
 * Finding the head's HTTP API and the token for it. Address, first found wins:
 *   --address: an http(s):// URL is the API server itself; HOST:PORT is a GCS, whose kv says where
 *     its API listens;
 *   RAYTS_API_SERVER_ADDRESS (a URL), then RAYTS_ADDRESS (either form);
 *   `auto` in any of them, or none: the live session on this host (its head's ready file, or its head's kv for a worker's session).
 * Token: --token-file, RAYTS_TOKEN, RAYTS_TOKEN_FILE, then the local session's (see discovery.ts).
 * A cluster started with --include-dashboard=false is a DashboardDisabledError (exit 3).
 */
import { readFileSync } from 'node:fs';
import {
  AuthenticationError, DASHBOARD_NAMESPACE, DASHBOARD_URL_KEY, GcsClient, SessionPaths, UsageError, isLoopbackHost, liveSessions,
  isAutoAddress, localAddresses, parseAddress, readJson, tlsFromEnv, type Config, type HeadReady, type SessionInfo,
} from '@rayts/common';
import { resolveTarget, tokenFromEnvironment, type TargetOptions } from './discovery.js';
import { ApiClient } from './api_client.js';
import { DashboardDisabledError } from './errors.js';

export interface ApiTarget {
  /** `http(s)://host:port` of the API server. */
  baseUrl: string;
  token: string;
  /** The cluster CA (RAYTS_TLS_CA), to verify an https server. */
  ca?: Buffer;
  /** The local session of that cluster, when there is one. */
  session?: SessionInfo;
}

function isUrl(text: string): boolean {
  return /^https?:\/\//i.test(text.trim());
}

function normalizedUrl(text: string, from: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UsageError(`${from} is not a URL: '${text}'`, 'use http://HOST:PORT (or https:// for a cluster with TLS), e.g. http://127.0.0.1:8265');
  }
  return url.origin + url.pathname.replace(/\/$/, '');
}

function headReadyOf(session: SessionInfo | undefined): HeadReady | undefined {
  return session ? readJson<HeadReady>(new SessionPaths(session.sessionDir).headReady) : undefined;
}

function disabled(gcsAddress: string): DashboardDisabledError {
  return new DashboardDisabledError(`the rayts cluster at ${gcsAddress} runs without its dashboard, so it has no HTTP API`,
    'start the head with the dashboard on (the default; see --include-dashboard, --dashboard-port)');
}

/** The API URL the GCS at `address` published in its kv. */
async function urlFromGcs(address: string, token: string, config: Config, env: NodeJS.ProcessEnv): Promise<string> {
  const client = new GcsClient(address, { token, tls: tlsFromEnv(env), timeoutMs: config.gcsRpcTimeoutMs });
  try {
    const value = await client.kvGet(DASHBOARD_NAMESPACE, DASHBOARD_URL_KEY);
    if (!value) throw disabled(address);
    return value.toString('utf8');
  } finally {
    client.close();
  }
}

/** A head on another host whose API listens on its own loopback cannot be reached from here directly. */
function checkReachable(gcsAddress: string, url: string): void {
  const gcsHost = parseAddress(gcsAddress).host;
  const apiHost = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const gcsIsHere = isLoopbackHost(gcsHost) || localAddresses().includes(gcsHost.toLowerCase());
  if (!gcsIsHere && isLoopbackHost(apiHost)) {
    throw new DashboardDisabledError(`the head at ${gcsAddress} serves its HTTP API on its own loopback only (${url})`,
      `reach it through an SSH tunnel (ssh -N -L ${new URL(url).port}:127.0.0.1:${new URL(url).port} <head>) and pass --address=${url}, or start the head with --dashboard-host`);
  }
}

function readCa(env: NodeJS.ProcessEnv): Buffer | undefined {
  const file = env.RAYTS_TLS_CA;
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read RAYTS_TLS_CA=${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

export async function resolveApiTarget(options: TargetOptions, config: Config, env: NodeJS.ProcessEnv = process.env): Promise<ApiTarget> {
  const explicit = options.address ?? env.RAYTS_API_SERVER_ADDRESS ?? env.RAYTS_ADDRESS;
  const from = options.address !== undefined ? '--address' : env.RAYTS_API_SERVER_ADDRESS !== undefined ? 'RAYTS_API_SERVER_ADDRESS' : 'RAYTS_ADDRESS';
  const ca = readCa(env);
  if (explicit !== undefined && !isAutoAddress(explicit) && (isUrl(explicit) || from === 'RAYTS_API_SERVER_ADDRESS')) {
    const baseUrl = normalizedUrl(explicit, from);
    const session = liveSessions(config, options.tempDir).find((s) => {
      const url = headReadyOf(s)?.dashboardUrl;
      return url !== undefined && normalizedUrl(url, 'the session') === baseUrl;
    });
    const token = tokenFromEnvironment(options, env) ?? (session ? readFileSync(new SessionPaths(session.sessionDir).token, 'utf8').trim() : undefined);
    if (!token) {
      throw new AuthenticationError(`no cluster token for the rayts API at ${baseUrl}`,
        'pass --token-file FILE or set RAYTS_TOKEN (print the token on the head with `rayts get-auth-token`)');
    }
    return { baseUrl, token, ca, session };
  }
  const target = resolveTarget({ ...options, address: explicit }, config, env);
  const head = headReadyOf(target.session);
  let url: string;
  if (head && head.address === target.address) {
    if (!head.dashboardUrl) throw disabled(target.address);
    url = head.dashboardUrl;
  } else {
    url = await urlFromGcs(target.address, target.token, config, env);
    checkReachable(target.address, url);
  }
  return { baseUrl: normalizedUrl(url, 'the head\'s dashboard URL'), token: target.token, ca, session: target.session };
}

/** A client of the API `target` names, with the configured deadline. */
export function apiClientFor(target: ApiTarget, config: Pick<Config, 'apiRequestTimeoutMs'>): ApiClient {
  return new ApiClient({ baseUrl: target.baseUrl, token: target.token, ca: target.ca, timeoutMs: config.apiRequestTimeoutMs });
}
