/**
 * One TCP port for gRPC and a raw side channel: a worker host opens exactly one port.
 * Each connection's first bytes decide: a side-channel magic goes to `onSideChannel`, anything else
 * (the HTTP/2 preface, a TLS hello, garbage) is handed to the gRPC server, which answers or rejects
 * it as if it had accepted the connection itself. The raylet uses the side channel for bulk object
 * transfer, where grpc-js's per-frame cost caps a stream far below what the wire can carry.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { PortInUseError } from '../errors.js';
import { serverCredentials, tlsSecureContext, type TlsFiles } from './tls.js';

/**
 * The side channel with TLS: after the magic (in clear text, nothing else) the server answers this
 * one byte, and both ends start mutual TLS on the connection (as STARTTLS does); the side channel's
 * own protocol then runs inside it.
 */
export const STARTTLS_ACK = Buffer.from([0x06]);

export interface SharedPort {
  port: number;
  close(): void;
}

export function bindSharedPort(
  grpcServer: grpc.Server, host: string, port: number, tls: TlsFiles | undefined, what: string,
  magic: Buffer, /** How long a new connection may take to send its first bytes. */ firstBytesTimeoutMs: number, onSideChannel: (socket: Socket) => void,
  /** With TLS: whether the side channel runs inside TLS (STARTTLS_ACK) rather than not at all (its clients then use gRPC). */
  sideChannelTls = false,
): Promise<SharedPort> {
  const secureContext = tls && sideChannelTls ? tlsSecureContext(tls) : undefined;
  const injector = grpcServer.createConnectionInjector(serverCredentials(tls));
  const server: Server = createServer({ noDelay: true }, (socket) => {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), firstBytesTimeoutMs);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const matches = head.subarray(0, magic.length).equals(magic.subarray(0, Math.min(head.length, magic.length)));
      if (matches && head.length < magic.length) return; // could still be the magic: wait for more
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      if (matches && secureContext) {
        // STARTTLS: the client sends the magic and waits for the ack; anything more is not one of ours.
        if (head.length !== magic.length) { socket.destroy(); return; }
        socket.write(STARTTLS_ACK);
        onSideChannel(new TLSSocket(socket, { isServer: true, secureContext, requestCert: true, rejectUnauthorized: true }));
        return;
      }
      socket.unshift(head);
      if (matches && !tls) onSideChannel(socket);
      else injector.injectConnection(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clearTimeout(timer));
  });
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new PortInUseError(`${what} port ${port} on ${host} is already in use`,
          `another process holds it (see \`ss -ltnp 'sport = :${port}'\`); stop it or choose another port`));
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(new PortInUseError(`cannot bind ${what} to ${address}: ${host} is not an address of this host`,
          'pass --node-ip-address with an address of one of this host\'s interfaces'));
      } else {
        reject(new PortInUseError(`cannot bind ${what} to ${address}: ${err.message}`));
      }
    });
    server.listen(port, host, () => {
      const bound = server.address();
      resolve({
        port: typeof bound === 'object' && bound ? bound.port : port,
        close: () => { server.close(); injector.destroy(); },
      });
    });
  });
}
