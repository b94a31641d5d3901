/**
 * The warning for a dashboard bound to a non-loopback address without TLS. Its own module, free of
 * fastify, because `rayts start` says it too (before the head starts) and the CLI loads it at once.
 */
import { isLoopbackHost } from '@rayts/common';

export function needsPlainHttpWarning(host: string, tls: boolean): boolean {
  return !tls && !isLoopbackHost(host);
}

export function plainHttpWarning(host: string): string {
  return `the dashboard listens on ${host} over plain HTTP, so the cluster token travels in clear text; `
    + 'turn on TLS (--tls-cert/--tls-key/--tls-ca) or keep it on 127.0.0.1 and use an SSH tunnel';
}
