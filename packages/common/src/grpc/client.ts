/** Client plumbing: one bearer-token interceptor for every call, deadlines, promise-returning calls. */
import * as grpc from '@grpc/grpc-js';
import { AUTH_METADATA_KEY, bearer } from './auth.js';
import { channelCredentials, type TlsFiles } from './tls.js';
import { toRaytsError } from './status.js';
import type { CallPatience } from './head_patience.js';

export interface ClientOptions {
  token: string;
  tls?: TlsFiles;
  maxMessageBytes?: number;
  /** Default deadline of unary calls. */
  timeoutMs: number;
  /**
   * A connection of its own instead of the one grpc-js shares between clients of one address: for
   * background traffic (task events) whose failed attempts during a head outage must not put the
   * shared connection into reconnect backoff, where the process's own calls would fail at once for
   * a while after the head is back.
   */
  ownConnection?: boolean;
  /**
   * HTTP/2 receive window (default 32 MiB, what object pulls need for ~1 GiB/s): a stream may have
   * this much received and not yet read in memory. Package downloads ask for less.
   */
  flowControlWindowBytes?: number;
  /**
   * Makes the client's calls wait for a head that is away (drivers and workers: HeadPatience);
   * without it a call fails at once when nothing answers (the CLI, raylets, which handle that themselves).
   */
  patience?: CallPatience;
}

function tokenInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set(AUTH_METADATA_KEY, bearer(token));
      next(metadata, listener);
    },
  });
}

type ClientCtor<C> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => C;

export function makeClient<C extends grpc.Client>(Ctor: ClientCtor<C>, address: string, options: ClientOptions): C {
  return new Ctor(address, channelCredentials(options.tls), {
    interceptors: [tokenInterceptor(options.token)],
    'grpc.max_receive_message_length': options.maxMessageBytes ?? 64 * 1024 * 1024,
    'grpc.max_send_message_length': options.maxMessageBytes ?? 64 * 1024 * 1024,
    // Reconnect quickly after a head restart instead of grpc's default backoff of up to 120 s: while
    // the channel waits out its backoff every call fails at once, so this bounds how long a call
    // that waits for the head (HeadPatience) still fails after the head is back.
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 1000,
    // grpc-js's default window caps a stream near 0.3 GiB/s; object pulls need ~1 GiB/s.
    'grpc-node.flow_control_window': options.flowControlWindowBytes ?? 32 * 1024 * 1024,
    ...(options.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  });
}

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
export type UnaryInvoker<Res> = (metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<Res>) => unknown;

/** Runs one unary call with a deadline; failures become rayts errors that name `target`. */
export function unaryCall<Res>(invoke: UnaryInvoker<Res>, timeoutMs: number, target: string, what: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke(new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(toRaytsError(err, target, what));
      else resolve(res as Res);
    });
  });
}

/**
 * One unary call that waits for its server like `patience` says (a client without patience: once).
 * `what` names the call in the error after giving up.
 */
export function patientCall<Res>(patience: CallPatience | undefined, what: string, once: () => Promise<Res>): Promise<Res> {
  return patience ? patience.run(what, once) : once();
}
