/**
 * What `rayts start --head` and the head's entry point share about the dashboard's flags: the
 * defaults and the warning for a bind off loopback without TLS. Free of fastify, because the CLI
 * loads it on every `rayts start`.
 */
import { isLoopbackHost } from '@rayts/common';

export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
export const DEFAULT_DASHBOARD_PORT = 8265;

export function needsPlainHttpWarning(host: string, tls: boolean): boolean {
  return !tls && !isLoopbackHost(host);
}

/** One line: said by `rayts start` and logged by the server. */
export function plainHttpWarning(host: string): string {
  return `the dashboard listens on ${host} over plain HTTP, so the cluster token travels in clear text; `
    + 'turn on TLS (--tls-cert/--tls-key/--tls-ca) or keep it on 127.0.0.1 and use an SSH tunnel';
}
