import { describe, expect, it } from 'vitest';
import { HostGuard, crossSiteRefusal, isSafeMethod, ownOrigin, parseHostHeader } from './guards.js';

describe('parseHostHeader', () => {
  it('reads names, IPv4 and bracketed IPv6, with the scheme\'s default port', () => {
    expect(parseHostHeader('127.0.0.1:8265', 'http')).toEqual({ hostname: '127.0.0.1', port: 8265 });
    expect(parseHostHeader('LocalHost', 'http')).toEqual({ hostname: 'localhost', port: 80 });
    expect(parseHostHeader('example.com', 'https')).toEqual({ hostname: 'example.com', port: 443 });
    expect(parseHostHeader('[::1]:8265', 'http')).toEqual({ hostname: '::1', port: 8265 });
    expect(parseHostHeader('[::1]', 'https')).toEqual({ hostname: '::1', port: 443 });
  });

  it('refuses what is not a Host header', () => {
    for (const bad of [undefined, '', 'a b', 'host:99999', 'host:0', '::1:8265', 'user@host:1', 'host:80/x', '[zz]:1']) {
      expect(parseHostHeader(bad, 'http'), String(bad)).toBeUndefined();
    }
  });
});

describe('HostGuard', () => {
  const interfaces = () => ['127.0.0.1', '::1', '10.0.0.5', 'fe80::1'];
  const guard = (host: string, port = 8265) => new HostGuard(host, () => port, interfaces, () => 'headbox');

  it('bound to 127.0.0.1: its address, localhost and ::1, with its port only', () => {
    const g = guard('127.0.0.1');
    for (const ok of ['127.0.0.1:8265', 'localhost:8265', 'LOCALHOST:8265', '[::1]:8265']) expect(g.allows(ok, 'http'), ok).toBe(true);
    for (const bad of ['127.0.0.1:8266', '127.0.0.1', 'attacker.example:8265', 'attacker.example', '10.0.0.5:8265', 'headbox:8265', undefined]) {
      expect(g.allows(bad, 'http'), String(bad)).toBe(false);
    }
  });

  it('bound to another loopback address: that address and the loopback names', () => {
    const g = guard('127.0.0.2');
    expect(g.allows('127.0.0.2:8265', 'http')).toBe(true);
    expect(g.allows('localhost:8265', 'http')).toBe(true);
    expect(g.allows('127.0.0.3:8265', 'http')).toBe(false);
  });

  it('bound to a non-loopback address: that address only', () => {
    const g = guard('10.0.0.5');
    expect(g.allows('10.0.0.5:8265', 'http')).toBe(true);
    expect(g.allows('localhost:8265', 'http')).toBe(false);
    expect(g.allows('127.0.0.1:8265', 'http')).toBe(false);
  });

  it('bound to every interface: any local address, localhost and the host name', () => {
    for (const wildcard of ['0.0.0.0', '::']) {
      const g = guard(wildcard);
      for (const ok of ['10.0.0.5:8265', '127.0.0.1:8265', '127.0.0.2:8265', '[fe80::1]:8265', 'localhost:8265', 'headbox:8265']) expect(g.allows(ok, 'http'), ok).toBe(true);
      for (const bad of ['10.0.0.6:8265', 'attacker.example:8265', '10.0.0.5:1']) expect(g.allows(bad, 'http'), bad).toBe(false);
    }
  });

  it('bound to every interface: an address added later is accepted, interfaces listed again at most once a second', () => {
    let now = 0;
    let calls = 0;
    const addresses = ['127.0.0.1'];
    const g = new HostGuard('0.0.0.0', () => 8265, () => { calls++; return addresses; }, () => 'h', () => now);
    addresses.push('10.0.0.9');
    expect(g.allows('10.0.0.9:8265', 'http')).toBe(false);
    expect(g.allows('attacker.example:8265', 'http')).toBe(false);
    expect(calls).toBe(1);
    now = 1000;
    expect(g.allows('10.0.0.9:8265', 'http')).toBe(true);
    expect(calls).toBe(2);
  });

  it('a port that is not known yet (0) refuses everything', () => {
    expect(new HostGuard('127.0.0.1', () => 0).allows('127.0.0.1:0', 'http')).toBe(false);
  });

  it('with https and port 443, a Host without a port matches', () => {
    expect(guard('127.0.0.1', 443).allows('127.0.0.1', 'https')).toBe(true);
    expect(guard('127.0.0.1', 443).allows('127.0.0.1', 'http')).toBe(false);
  });
});

describe('CSRF rules', () => {
  const own = ownOrigin('http', '127.0.0.1:8265');

  it('the own origin is scheme://host:port as requested', () => {
    expect(own).toBe('http://127.0.0.1:8265');
    expect(ownOrigin('https', 'Example.COM:443')).toBe('https://example.com');
  });

  it('safe methods always pass', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get']) {
      expect(isSafeMethod(method)).toBe(true);
      expect(crossSiteRefusal({ method, origin: 'http://attacker.example', secFetchSite: 'cross-site', own, viaCookie: true })).toBeUndefined();
    }
  });

  it('state changes from another origin are refused, whatever the method', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const origin of ['http://attacker.example', 'http://127.0.0.1:8266', 'https://127.0.0.1:8265', 'null', 'garbage']) {
        expect(crossSiteRefusal({ method, origin, own, viaCookie: false }), `${method} ${origin}`).toMatch(/may not change state/);
      }
    }
  });

  it('Sec-Fetch-Site: cross-site is refused; same-origin and same-site with the own Origin pass', () => {
    expect(crossSiteRefusal({ method: 'POST', secFetchSite: 'cross-site', own, viaCookie: false })).toMatch(/Sec-Fetch-Site/);
    expect(crossSiteRefusal({ method: 'POST', secFetchSite: 'same-origin', origin: 'http://127.0.0.1:8265', own, viaCookie: true })).toBeUndefined();
  });

  it('a cookie-authenticated state change needs the own Origin; a token-authenticated one may omit it', () => {
    expect(crossSiteRefusal({ method: 'POST', own, viaCookie: true })).toMatch(/must carry this server's Origin/);
    expect(crossSiteRefusal({ method: 'POST', origin: 'http://127.0.0.1:8265', own, viaCookie: true })).toBeUndefined();
    expect(crossSiteRefusal({ method: 'DELETE', own, viaCookie: false })).toBeUndefined();
  });
});
