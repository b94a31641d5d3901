/** A TCP connect with a deadline: is HOST:PORT reachable from this host? */
import { createConnection } from 'node:net';
import type { PortProbe } from './types.js';

export function probePort(role: PortProbe['role'], host: string, port: number, timeoutMs: number): Promise<PortProbe> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const finish = (open: boolean, error?: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ role, host, port, open, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(false, `no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  });
}
