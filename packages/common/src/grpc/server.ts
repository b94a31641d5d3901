/**
 * gRPC servers of the daemons. Every call passes the token interceptor first: the `authorization`
 * metadata is checked in constant time before the request message is read, and refused calls
 * are logged (rate-limited per peer) without their content. The same interceptor times each
 * accepted call up to its status when the server is given a latency observer. Handlers are wrapped
 * so that a throw becomes a status, never a crash.
 */
import * as grpc from '@grpc/grpc-js';
import { AUTH_METADATA_KEY, checkBearer } from './auth.js';
import { OutOfDiskError, RpcError } from '../errors.js';
import type { Logger } from '../logger.js';
import { PortInUseError } from '../errors.js';
import type { TlsFiles } from './tls.js';
import type { RpcLatencyObserver } from './server_latency.js';
import { serverCredentials } from './tls.js';
import { LogThrottle } from '../log_throttle.js';

export interface ServerOptions {
  token: string;
  logger: Logger;
  maxMessageBytes: number;
  authFailureLogIntervalMs: number;
  tls?: TlsFiles;
  /** Told the duration and status of every accepted call (Prometheus histograms). */
  latency?: RpcLatencyObserver;
}

function authInterceptor(options: ServerOptions): grpc.ServerInterceptor {
  const throttle = new LogThrottle(options.authFailureLogIntervalMs);
  const latency = options.latency;
  return (method, call) => new grpc.ServerInterceptingCall(call, {
    start: (next) => next({
      onReceiveMetadata: (metadata, nextMetadata) => {
        const check = checkBearer(metadata.get(AUTH_METADATA_KEY)[0], options.token);
        if (check === 'ok') {
          nextMetadata(metadata);
          return;
        }
        const peer = call.getPeer();
        if (throttle.allow(peer.replace(/:\d+$/, ''))) {
          options.logger.warn('refused an unauthenticated call', {
            peer, method: method.path, reason: check === 'wrong' ? 'wrong token' : 'no token',
          });
        }
        call.sendStatus({
          code: grpc.status.UNAUTHENTICATED,
          details: check === 'wrong' ? 'wrong cluster token' : 'missing cluster token (authorization: Bearer <token>)',
        });
      },
    }),
    // Refused calls answer through `call` above, not here: only accepted calls are timed.
    ...(latency && timedStatus(latency, method.path)),
  });
}

/** A responder step that reports the call's duration when its status goes out. */
function timedStatus(latency: RpcLatencyObserver, path: string): grpc.Responder {
  const started = performance.now();
  return {
    sendStatus: (status, next) => {
      latency.observe(path, status.code, (performance.now() - started) / 1000);
      next(status);
    },
  };
}

export function createServer(options: ServerOptions): grpc.Server {
  return new grpc.Server({
    interceptors: [authInterceptor(options)],
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.keepalive_permit_without_calls': 1,
  });
}

/** Binds host:port (port 0 = any) and returns the bound port; a taken port is a PortInUseError. */
export function bindServer(server: grpc.Server, host: string, port: number, tls: TlsFiles | undefined, what: string): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, serverCredentials(tls), (err, bound) => {
      if (!err) return resolve(bound);
      if (/EADDRINUSE|address already in use/i.test(err.message)) {
        reject(new PortInUseError(`${what} port ${port} on ${host} is already in use`,
          `another process holds it (see \`ss -ltnp 'sport = :${port}'\`); stop it or choose another port with --port`));
      } else if (/EADDRNOTAVAIL|cannot assign/i.test(err.message)) {
        reject(new PortInUseError(`cannot bind ${what} to ${address}: ${host} is not an address of this host`,
          'pass --node-ip-address with an address of one of this host\'s interfaces'));
      } else {
        reject(new PortInUseError(`cannot bind ${what} to ${address}: ${err.message}`));
      }
    });
  });
}

type UnaryImpl<Req, Res> = (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>;

/** Wraps a unary handler: thrown RpcErrors keep their code, anything else is INTERNAL and logged. */
export function unary<Req, Res>(logger: Logger, name: string, impl: UnaryImpl<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let result: Res | Promise<Res>;
    try {
      result = impl(call.request, call);
    } catch (err) {
      callback(asStatus(logger, name, err));
      return;
    }
    Promise.resolve(result).then((value) => callback(null, value), (err) => callback(asStatus(logger, name, err)));
  };
}

type StreamImpl<Req, Res> = (request: Req, call: grpc.ServerWritableStream<Req, Res>) => Promise<void>;

/**
 * Wraps a server-streaming handler the same way; the stream is ended by the wrapper. A failure is
 * emitted as 'error' (grpc-js's way: its listener records the status and ends the call); destroying
 * the call instead would skip the end, and the client would wait for a status until its deadline.
 */
export function serverStream<Req, Res>(logger: Logger, name: string, impl: StreamImpl<Req, Res>): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    impl(call.request, call).then(() => call.end(), (err) => call.emit('error', asStatus(logger, name, err)));
  };
}

/**
 * The status a handler's error is answered with (also for one item of a batch call): an RpcError keeps
 * its code and message; anything else is a bug, answered INTERNAL with a generic message (the caller
 * learns nothing of the daemon's insides) and logged with its stack.
 */
export function asStatus(logger: Logger, name: string, err: unknown): { code: grpc.status; details: string } {
  if (err instanceof RpcError) return { code: err.code, details: err.message };
  if (err instanceof OutOfDiskError) {
    // Not a bug: the daemon's disk is full. The caller is told what and where; the daemon goes on.
    logger.error(`${name} failed: out of disk space`, { error: err.message });
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: `${name} failed: ${err.message}${err.hint ? ` (${err.hint})` : ''}` };
  }
  logger.error(`${name} failed with an unexpected error`, { err });
  return { code: grpc.status.INTERNAL, details: `${name} failed: internal error (the daemon's log has the details)` };
}

/** Throws INVALID_ARGUMENT unless `condition` holds: request fields are validated before use. */
export function require(condition: unknown, message: string): asserts condition {
  if (!condition) throw new RpcError(grpc.status.INVALID_ARGUMENT, message);
}
