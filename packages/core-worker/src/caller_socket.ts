/**
 * A worker's own Unix socket, where processes of its node reach it directly (one hop each way instead
 * of two through the raylet): callers of the actor it hosts, and owners it is leased to. The first
 * frame on a connection must be a hello with the cluster token; a connection without one is closed.
 * The socket is shared with the owner's group, as the raylet's is (they need the token too).
 */
import { createServer, type Server } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { connectFramed, FramedConnection, SHARED_FILE_MODE, tokensEqual } from '@rayts/common';
import type { CallerHello } from './protocol/messages.js';

/** Listens on `path`; `accepted` gets each connection once it proved the token (its listeners see what follows the hello). */
export function listenForCallers<In, Out>(path: string, token: string, accepted: (conn: FramedConnection<CallerHello | In, Out>) => void): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    const conn = new FramedConnection<CallerHello | In, Out>(socket);
    conn.once('message', (hello) => {
      const h = hello as Partial<CallerHello>;
      if (h.type !== 'hello' || typeof h.token !== 'string' || !tokensEqual(h.token, token)) {
        conn.close();
        return;
      }
      accepted(conn);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      chmodSync(path, SHARED_FILE_MODE);
      resolve(server);
    });
  });
}

/**
 * Connects to a worker's socket and says hello with the token. `patientMs` > 0: the worker was only
 * just told to listen and may not yet, so a refused or missing socket is tried again every
 * millisecond or two for that long.
 */
export async function dialWorker<In, Out>(path: string, token: string, patientMs: number): Promise<FramedConnection<In, CallerHello | Out>> {
  const deadline = performance.now() + patientMs;
  for (;;) {
    try {
      const conn = await connectFramed<In, CallerHello | Out>(path);
      conn.send({ type: 'hello', role: 'caller', token });
      return conn;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || performance.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}
