/**
 * Opening one connection of a remote-client session: TCP to the head's client port, the tunnel's
 * magic, HELLO, then WELCOME or REFUSED. A refusal becomes the error class a user can act on.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  AuthenticationError, CLIENT_TUNNEL_MAGIC, ClusterUnreachableError, FrameKind, FramePartsReader, STARTTLS_ACK, VersionMismatchError, jsonFrame, readJsonBody,
  tlsClientOptions, type ClientHelloBody, type RaytsError, type RefusedBody, type TlsFiles, type WelcomeBody,
} from '@rayts/common';

export interface Opened {
  socket: Socket;
  /** Holds whatever arrived after the welcome. */
  reader: FramePartsReader;
  welcome: WelcomeBody;
}

/** The head answered, and said no: retrying will not help. */
export class RefusedError extends Error {
  constructor(readonly error: RaytsError) {
    super(error.message);
  }
}

/**
 * Opens one connection and says hello. With `tls` (the cluster's mutual TLS, RAYTS_TLS_*): the magic
 * in clear text, the head's one-byte answer, then TLS on the same connection, and the magic and the
 * hello inside it.
 */
export function openConnection(host: string, port: number, hello: ClientHelloBody, timeoutMs: number, maxFrameBytes: number, tls?: TlsFiles): Promise<Opened> {
  const where = `rayts://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const tcp = connect({ host, port, noDelay: true });
    let socket: Socket = tcp;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      tcp.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new ClusterUnreachableError(`no answer from the rayts head at ${where} within ${timeoutMs} ms`,
      tls ? 'this client uses TLS (RAYTS_TLS_*): does the cluster?' : 'check the address: it is the head\'s --ray-client-server-port (default 10001)')), timeoutMs);
    const reader = new FramePartsReader((body) => {
      if (settled) return;
      if (body[0]?.[0] === FrameKind.WELCOME) {
        settled = true;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        tcp.removeAllListeners('error');
        tcp.removeAllListeners('close');
        reader.redirect(() => undefined);
        resolve({ socket, reader, welcome: readJsonBody<WelcomeBody>(body) });
      } else if (body[0]?.[0] === FrameKind.REFUSED) {
        fail(new RefusedError(refusal(readJsonBody<RefusedBody>(body), where)));
      } else {
        fail(new ClusterUnreachableError(`${where} did not answer as a rayts head (frame kind ${body[0]?.[0]})`, 'check the address: it is the head\'s --ray-client-server-port (default 10001)'));
      }
    }, maxFrameBytes);
    const onData = (data: Buffer) => {
      try {
        reader.push(data);
      } catch (err) {
        fail(err as Error);
      }
    };
    const sayHello = (s: Socket) => {
      s.on('data', onData);
      s.write(CLIENT_TUNNEL_MAGIC);
      s.write(jsonFrame(FrameKind.HELLO, hello));
    };
    tcp.once('connect', () => {
      if (!tls) return sayHello(tcp);
      tcp.write(CLIENT_TUNNEL_MAGIC);
      tcp.once('data', (ack: Buffer) => {
        if (ack.length !== 1 || ack[0] !== STARTTLS_ACK[0]) {
          fail(new ClusterUnreachableError(`the rayts head at ${where} does not use TLS, but this client does (RAYTS_TLS_*)`, 'connect without TLS, or start the cluster with --tls-cert, --tls-key and --tls-ca'));
          return;
        }
        const secure = tlsConnect({ socket: tcp, ...tlsClientOptions(tls, host) });
        socket = secure;
        secure.once('secureConnect', () => sayHello(secure));
        secure.on('error', (err) => fail(new ClusterUnreachableError(`TLS with the rayts head at ${where} failed: ${err.message}`, 'the client needs a certificate signed by the cluster\'s CA (RAYTS_TLS_CERT, RAYTS_TLS_KEY, RAYTS_TLS_CA)')));
      });
    });
    tcp.on('error', (err: NodeJS.ErrnoException) => fail(new ClusterUnreachableError(`cannot reach the rayts head at ${where}: ${err.code ?? err.message}`,
      'check that the head runs and that its --ray-client-server-port (default 10001) is open to this machine')));
    tcp.on('close', () => fail(new ClusterUnreachableError(`the rayts head at ${where} closed the connection during the handshake`,
      tls ? `is ${where} the head's --ray-client-server-port (default 10001)?` : `is ${where} the head's --ray-client-server-port (default 10001)? If the cluster uses TLS, set RAYTS_TLS_CERT, RAYTS_TLS_KEY and RAYTS_TLS_CA`)));
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
