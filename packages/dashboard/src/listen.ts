/** Binding the HTTP server, with the same clear errors as the GCS port, and the URL clients use. */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { PortInUseError, formatAddress, isWildcardHost } from '@rayts/common';
import type { Scheme } from './guards.js';

export async function listen(app: FastifyInstance, host: string, port: number): Promise<number> {
  try {
    await app.listen({ host, port, listenTextResolver: () => '' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new PortInUseError(`dashboard port ${port} on ${host} is already in use`,
        `another process holds it (see \`ss -ltnp 'sport = :${port}'\`); choose another with --dashboard-port (0 = any free port) or start without it: --include-dashboard=false`);
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new PortInUseError(`cannot bind the dashboard to ${formatAddress(host, port)}: ${host} is not an address of this host`,
        'pass --dashboard-host with an address of one of this host\'s interfaces (default 127.0.0.1)');
    }
    throw new PortInUseError(`cannot bind the dashboard to ${formatAddress(host, port)}: ${(err as Error).message}`);
  }
  return (app.server.address() as AddressInfo).port;
}

/** The base URL clients use: the bound host, or `advertiseHost` (the node's IP) when bound to every interface. */
export function baseUrl(scheme: Scheme, host: string, advertiseHost: string, port: number): string {
  return `${scheme}://${formatAddress(isWildcardHost(host) ? advertiseHost : host, port)}`;
}
