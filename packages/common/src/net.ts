/** Addresses: parsing `host:port`, finding this node's IP, probing ports. */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { connect, createServer, isIPv4 } from 'node:net';
import { createSocket } from 'node:dgram';
import { UsageError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

export function parsePort(text: string | number, flag: string): number {
  const port = typeof text === 'number' ? text : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${flag} must be a port number between 0 and 65535, got '${text}'`);
  }
  return port;
}

/** Parses HOST:PORT (IPv6 as [addr]:port). */
export function parseAddress(text: string, flag = '--address'): HostPort {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text.trim()) ?? /^([^:\s/]+):(\d+)$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`${flag} must look like HOST:PORT (for example 10.0.0.5:6379), got '${text}'`);
  }
  return { host: match[1]!, port: parsePort(match[2]!, flag) };
}

/** Remote drivers' addresses: `rayts://HOST[:PORT]`, the head's client port (Ray Client's 10001 by default). */
export const REMOTE_SCHEME = 'rayts://';
export const DEFAULT_CLIENT_PORT = 10001;

export function isRemoteAddress(address: string | undefined): address is string {
  return !!address && address.startsWith(REMOTE_SCHEME);
}

/** HOST and PORT of a `rayts://` address (PORT 10001 when left out); a UsageError naming `what` if it names no head. */
export function parseRemoteAddress(address: string, what = 'a rayts:// address'): HostPort {
  const rest = address.slice(REMOTE_SCHEME.length).replace(/\/+$/, '');
  if (!rest) throw new UsageError(`${address} names no head`, `use ${REMOTE_SCHEME}HOST:PORT, e.g. ${REMOTE_SCHEME}10.0.0.5:${DEFAULT_CLIENT_PORT}`);
  return parseAddress(/:\d+$/.test(rest) ? rest : `${rest}:${DEFAULT_CLIENT_PORT}`, what);
}

/** 'auto' (any case) as an address: the cluster this host runs, as Ray's `address='auto'`. */
export const AUTO_ADDRESS = 'auto';

export function isAutoAddress(text: string | undefined): boolean {
  return text !== undefined && text.trim().toLowerCase() === AUTO_ADDRESS;
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What node-IP detection looks at (injected by tests). */
export interface NodeIpSources {
  /** The source address of this host's route toward `target` (HOST:PORT), undefined without a route. */
  routeSource(target: HostPort): Promise<string | undefined>;
  interfaces(): NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/** The first non-internal IPv4 address of an interface, else 127.0.0.1. */
export function firstInterfaceIp(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string {
  for (const addresses of Object.values(interfaces)) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return '127.0.0.1';
}

/**
 * The address other nodes should use for this one, as Ray finds it: the source address of the route
 * toward a public address (`target`, RAYTS_NODE_IP_ROUTE_TARGET), so docker0, a VPN or a second NIC
 * is not taken by mistake; without a route (an offline host), the first non-internal IPv4 interface.
 * No packet is sent: a UDP socket's connect only asks the kernel for the route.
 */
export async function detectNodeIp(target: string, sources: NodeIpSources = systemNodeIpSources): Promise<string> {
  const source = await sources.routeSource(parseAddress(target, 'RAYTS_NODE_IP_ROUTE_TARGET')).catch(() => undefined);
  if (source !== undefined && isIPv4(source) && !isLoopbackHost(source) && !isWildcardHost(source)) return source;
  return firstInterfaceIp(sources.interfaces());
}

/** The kernel's choice of source address toward host:port (UDP connect; nothing is sent). */
export function udpRouteSource(target: HostPort, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(isIPv4(target.host) || !target.host.includes(':') ? 'udp4' : 'udp6');
    const done = (address: string | undefined) => {
      clearTimeout(timer);
      try { socket.close(); } catch { /* already closed */ }
      resolve(address);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('error', () => done(undefined));
    socket.connect(target.port, target.host, () => {
      try {
        done(socket.address().address);
      } catch {
        done(undefined);
      }
    });
  });
}

const systemNodeIpSources: NodeIpSources = { routeSource: (target) => udpRouteSource(target), interfaces: networkInterfaces };

/** The local address this host uses to reach host:port (opens and closes one TCP connection). */
export function localAddressToward(host: string, port: number, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      const local = socket.localAddress ?? '127.0.0.1';
      socket.destroy();
      resolve(local.replace(/^::ffff:/, ''));
    });
    socket.once('timeout', () => { socket.destroy(); reject(new Error(`timed out connecting to ${host}:${port}`)); });
    socket.once('error', (err) => reject(err));
  });
}

/** True when nothing listens on host:port (we could bind it ourselves). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.x.x) and `localhost`: reachable from this host only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** 0.0.0.0 or :: (every interface). */
export function isWildcardHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === '0.0.0.0' || h === '::' || h === '0:0:0:0:0:0:0:0';
}

/** Every address of this host's interfaces (loopback included), lower-case, without zone ids. */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) out.push(a.address.toLowerCase().replace(/%.*$/, ''));
  }
  return out;
}
