import { describe, it, expect } from 'vitest';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { UsageError } from './errors.js';
import type { NetworkInterfaceInfo } from 'node:os';
import {
  detectNodeIp, firstInterfaceIp, formatAddress, isAutoAddress, isPortFree, parseAddress, parsePort, udpRouteSource, type HostPort, type NodeIpSources,
} from './net.js';

describe('parseAddress', () => {
  it('parses IPv4 and host names', () => {
    expect(parseAddress('127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(parseAddress(' head.example:0 ')).toEqual({ host: 'head.example', port: 0 });
  });

  it('parses bracketed IPv6', () => {
    expect(parseAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
  });

  it('refuses an address without a port, naming the flag', () => {
    expect(() => parseAddress('nohost')).toThrow(UsageError);
    expect(() => parseAddress('nohost', '--gcs-address')).toThrow(/--gcs-address/);
    expect(() => parseAddress('::1:80')).toThrow(UsageError);
    expect(() => parseAddress('h:')).toThrow(UsageError);
  });

  it('refuses a port out of range', () => {
    expect(() => parseAddress('h:99999')).toThrow(UsageError);
    expect(() => parseAddress('h:65536')).toThrow(/65535/);
    expect(parseAddress('h:65535').port).toBe(65535);
  });
});

describe('parsePort and formatAddress', () => {
  it('parsePort refuses non-integers', () => {
    expect(parsePort('6379', '--port')).toBe(6379);
    expect(() => parsePort('63.5', '--port')).toThrow(UsageError);
    expect(() => parsePort(-1, '--port')).toThrow(UsageError);
  });

  it('formatAddress brackets IPv6 and round-trips with parseAddress', () => {
    expect(formatAddress('::1', 80)).toBe('[::1]:80');
    expect(formatAddress('10.0.0.5', 6379)).toBe('10.0.0.5:6379');
    expect(parseAddress(formatAddress('::1', 80))).toEqual({ host: '::1', port: 80 });
  });
});

describe('isPortFree', () => {
  function listen(): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
    });
  }
  const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

  it('is false while a server listens on the port and true once it closed', async () => {
    const server = await listen();
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await isPortFree('127.0.0.1', port)).toBe(false);
    } finally {
      await close(server);
    }
    expect(await isPortFree('127.0.0.1', port)).toBe(true);
  });

  it('is true for port 0 (any free port)', async () => {
    expect(await isPortFree('127.0.0.1', 0)).toBe(true);
  });
});

describe('isAutoAddress', () => {
  it('is true for auto in any case and with blanks, false for anything else', () => {
    expect(['auto', 'AUTO', ' Auto '].map(isAutoAddress)).toEqual([true, true, true]);
    expect([undefined, '', 'auto:1', '127.0.0.1:6379', 'http://auto'].map(isAutoAddress)).toEqual([false, false, false, false, false]);
  });
});

describe('node IP detection', () => {
  const iface = (address: string, internal = false, family: 'IPv4' | 'IPv6' = 'IPv4') =>
    ({ address, internal, family, netmask: '', mac: '', cidr: null }) as NetworkInterfaceInfo;
  const interfaces = { lo: [iface('127.0.0.1', true)], docker0: [iface('fe80::1', false, 'IPv6'), iface('172.17.0.1')], eth0: [iface('10.0.0.5')] };
  const sources = (route: string | undefined | Error, seen: HostPort[] = []): NodeIpSources => ({
    routeSource: async (target) => {
      seen.push(target);
      if (route instanceof Error) throw route;
      return route;
    },
    interfaces: () => interfaces,
  });

  it('takes the source address of the route toward the target, not the first interface', async () => {
    const seen: HostPort[] = [];
    expect(await detectNodeIp('8.8.8.8:80', sources('10.0.0.5', seen))).toBe('10.0.0.5');
    expect(seen).toEqual([{ host: '8.8.8.8', port: 80 }]);
  });

  it('falls back to the first non-internal IPv4 interface without a usable route', async () => {
    for (const route of [undefined, new Error('ENETUNREACH'), '127.0.0.1', '0.0.0.0', '::1', 'fe80::2']) {
      expect(await detectNodeIp('8.8.8.8:80', sources(route))).toBe('172.17.0.1');
    }
  });

  it('is 127.0.0.1 on a host with loopback only', () => {
    expect(firstInterfaceIp({ lo: [iface('127.0.0.1', true)] })).toBe('127.0.0.1');
    expect(firstInterfaceIp({})).toBe('127.0.0.1');
  });

  it('refuses a malformed route target, naming its variable', async () => {
    await expect(detectNodeIp('8.8.8.8', sources('10.0.0.5'))).rejects.toThrow(/RAYTS_NODE_IP_ROUTE_TARGET/);
  });

  it('udpRouteSource asks the kernel without sending (loopback route: a loopback source)', async () => {
    expect(await udpRouteSource({ host: '127.0.0.1', port: 9 })).toBe('127.0.0.1');
  });
});

describe('rayts:// addresses', () => {
  it('names the head and its client port, 10001 when left out; an empty one is a usage error', async () => {
    const { isRemoteAddress, parseRemoteAddress } = await import('./net.js');
    expect(isRemoteAddress('rayts://10.0.0.5:10002')).toBe(true);
    expect(isRemoteAddress('10.0.0.5:6379')).toBe(false);
    expect(parseRemoteAddress('rayts://10.0.0.5:10002')).toEqual({ host: '10.0.0.5', port: 10002 });
    expect(parseRemoteAddress('rayts://head.example/')).toEqual({ host: 'head.example', port: 10001 });
    expect(() => parseRemoteAddress('rayts://')).toThrow(/names no head/);
  });
});
