import { describe, it, expect } from 'vitest';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { UsageError } from './errors.js';
import { formatAddress, isPortFree, parseAddress, parsePort } from './net.js';

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
