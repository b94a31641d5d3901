/**
 * Opening one connection of a remote-client session: TCP to the head's client port, the tunnel's
 * magic, HELLO, then WELCOME or REFUSED. A refusal becomes the error class a user can act on.
 */
import { connect, type Socket } from 'node:net';
import {
  AuthenticationError, CLIENT_TUNNEL_MAGIC, ClusterUnreachableError, FrameKind, FrameReader, VersionMismatchError, jsonFrame, readJsonBody,
  type ClientHelloBody, type RaytsError, type RefusedBody, type WelcomeBody,
} from '@rayts/common';

export interface Opened {
  socket: Socket;
  /** Holds whatever arrived after the welcome. */
  reader: FrameReader;
  welcome: WelcomeBody;
}

/** The head answered, and said no: retrying will not help. */
export class RefusedError extends Error {
  constructor(readonly error: RaytsError) {
    super(error.message);
  }
}

export function openConnection(host: string, port: number, hello: ClientHelloBody, timeoutMs: number, maxFrameBytes: number): Promise<Opened> {
  const where = `rayts://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new ClusterUnreachableError(`no answer from the rayts head at ${where} within ${timeoutMs} ms`)), timeoutMs);
    const reader = new FrameReader((body) => {
      if (settled) return;
      if (body[0] === FrameKind.WELCOME) {
        settled = true;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        reader.redirect(() => undefined);
        resolve({ socket, reader, welcome: readJsonBody<WelcomeBody>(body) });
      } else if (body[0] === FrameKind.REFUSED) {
        fail(new RefusedError(refusal(readJsonBody<RefusedBody>(body), where)));
      } else {
        fail(new ClusterUnreachableError(`${where} did not answer as a rayts head (frame kind ${body[0]})`, 'check the address: it is the head\'s --ray-client-server-port (default 10001)'));
      }
    }, maxFrameBytes);
    const onData = (data: Buffer) => {
      try {
        reader.push(data);
      } catch (err) {
        fail(err as Error);
      }
    };
    socket.on('data', onData);
    socket.once('connect', () => {
      socket.write(CLIENT_TUNNEL_MAGIC);
      socket.write(jsonFrame(FrameKind.HELLO, hello));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => fail(new ClusterUnreachableError(`cannot reach the rayts head at ${where}: ${err.code ?? err.message}`,
      'check that the head runs and that its --ray-client-server-port (default 10001) is open to this machine')));
    socket.on('close', () => fail(new ClusterUnreachableError(`the rayts head at ${where} closed the connection during the handshake`,
      `is ${where} the head's --ray-client-server-port (default 10001)?`)));
  });
}

function refusal(r: RefusedBody, where: string): RaytsError {
  switch (r.code) {
    case 'UNAUTHENTICATED':
      return new AuthenticationError(`the rayts head at ${where} refused the connection: ${r.message}`,
        'pass the cluster token: ray.init(address, { token }) or { tokenFile }, or RAYTS_TOKEN / RAYTS_TOKEN_FILE; `rayts get-auth-token` on the head prints it');
    case 'VERSION_MISMATCH':
      return new VersionMismatchError(`the rayts head at ${where} refused the connection: ${r.message}`);
    default:
      return new ClusterUnreachableError(`the rayts head at ${where} refused the connection: ${r.message}`);
  }
}
