/**
 * Request guards that need no credentials: the DNS-rebinding guard (the Host header must name an
 * address this server listens on) and the CSRF rules (no cross-site state change, whatever the
 * method). Pure functions and one small class, so they are unit-tested without a server.
 */
import { hostname as osHostname } from 'node:os';
import { isLoopbackHost, isWildcardHost, localAddresses } from '@rayts/common';

export type Scheme = 'http' | 'https';

export interface HostPortName {
  /** Lower-case, IPv6 without brackets. */
  hostname: string;
  port: number;
}

const DEFAULT_PORT: Record<Scheme, number> = { http: 80, https: 443 };

/** Parses a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`); undefined when it is not one. */
export function parseHostHeader(value: string | undefined, scheme: Scheme): HostPortName | undefined {
  if (!value) return undefined;
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(value) ?? /^([A-Za-z0-9.\-_]+)(?::(\d{1,5}))?$/.exec(value);
  if (!m) return undefined;
  const port = m[2] === undefined ? DEFAULT_PORT[scheme] : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { hostname: m[1]!.toLowerCase(), port };
}

function bare(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, '');
}

/**
 * Which Host headers name this server: its bound address with its port; when bound to loopback also
 * `localhost`, 127.0.0.1 and ::1; when bound to every interface (0.0.0.0, ::) any address of a local
 * interface, any loopback address, `localhost` and this host's name. Interfaces are listed again on a miss, at most once a
 * second, so an address added after start is accepted and a flood of bad hosts costs nothing.
 */
export class HostGuard {
  private names: Set<string>;
  private listedAtMs: number;

  /** `port` is read per request: the server's bound port (known once it listens; 0 refuses all). */
  constructor(
    private readonly host: string,
    private readonly port: () => number,
    private readonly addresses: () => string[] = localAddresses,
    private readonly hostName: () => string = osHostname,
    private readonly now: () => number = Date.now,
  ) {
    this.names = this.list();
    this.listedAtMs = this.now();
  }

  allows(hostHeader: string | undefined, scheme: Scheme): boolean {
    const parsed = parseHostHeader(hostHeader, scheme);
    if (!parsed || parsed.port !== this.port()) return false;
    if (this.names.has(parsed.hostname)) return true;
    if (!isWildcardHost(this.host)) return false;
    // All of 127.0.0.0/8 reaches a wildcard bind, though interfaces list 127.0.0.1 only.
    if (isLoopbackHost(parsed.hostname)) return true;
    if (this.now() - this.listedAtMs >= 1000) {
      this.names = this.list();
      this.listedAtMs = this.now();
      return this.names.has(parsed.hostname);
    }
    return false;
  }

  private list(): Set<string> {
    const host = bare(this.host);
    const names = new Set<string>([host]);
    if (isLoopbackHost(host)) for (const n of ['localhost', '127.0.0.1', '::1']) names.add(n);
    if (isWildcardHost(host)) {
      for (const a of this.addresses()) names.add(bare(a));
      names.add('localhost');
      names.add(this.hostName().toLowerCase());
    }
    return names;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/** The origin a same-origin browser request to this server carries: `scheme://<Host header>`. */
export function ownOrigin(scheme: Scheme, hostHeader: string): string | undefined {
  try {
    return new URL(`${scheme}://${hostHeader}`).origin;
  } catch {
    return undefined;
  }
}

function sameOrigin(origin: string, own: string | undefined): boolean {
  if (!own || origin === 'null') return false;
  try {
    return new URL(origin).origin === own;
  } catch {
    return false;
  }
}

export interface CrossSiteInput {
  method: string;
  /** The Origin header, if any. */
  origin?: string;
  /** The Sec-Fetch-Site header, if any. */
  secFetchSite?: string;
  /** `ownOrigin(scheme, Host)`. */
  own: string | undefined;
  /** True when the session cookie (not an Authorization header) authenticated the request. */
  viaCookie: boolean;
}

/**
 * Why a request is a refused cross-site state change, or undefined when it may go on. Safe methods
 * always pass. Otherwise: `Sec-Fetch-Site: cross-site` is refused; an Origin must be this server's
 * own; and a request authenticated by the cookie must carry that Origin (browsers send it on every
 * such request; a client with the token sends the Authorization header instead).
 */
export function crossSiteRefusal(input: CrossSiteInput): string | undefined {
  if (isSafeMethod(input.method)) return undefined;
  if (input.secFetchSite?.toLowerCase() === 'cross-site') return 'a cross-site request (Sec-Fetch-Site: cross-site) may not change state';
  if (input.origin !== undefined && !sameOrigin(input.origin, input.own)) {
    return `a request from origin ${input.origin} may not change state here (only ${input.own ?? 'this server\'s own origin'} may)`;
  }
  if (input.viaCookie && input.origin === undefined) {
    return 'a state change authenticated by the session cookie must carry this server\'s Origin header';
  }
  return undefined;
}
