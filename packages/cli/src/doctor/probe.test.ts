import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probePort } from './probe.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function listen(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('probePort', () => {
  it('open for a listening port, refused once it is closed', async () => {
    const port = await listen();
    expect(await probePort('raylet', '127.0.0.1', port, 2000)).toEqual({ role: 'raylet', host: '127.0.0.1', port, open: true });
    await new Promise((r) => servers.pop()!.close(r));
    expect(await probePort('head', '127.0.0.1', port, 2000)).toEqual({ role: 'head', host: '127.0.0.1', port, open: false, error: 'ECONNREFUSED' });
  });
});
