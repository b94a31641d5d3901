/** Optional mutual TLS (--tls-cert, --tls-key, --tls-ca or RAYTS_TLS_*): both ends present certificates. */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export function tlsFromEnv(env: NodeJS.ProcessEnv = process.env): TlsFiles | undefined {
  const certFile = env.RAYTS_TLS_CERT, keyFile = env.RAYTS_TLS_KEY, caFile = env.RAYTS_TLS_CA;
  return certFile && keyFile && caFile ? { certFile, keyFile, caFile } : undefined;
}

export function serverCredentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(readFileSync(tls.caFile),
    [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], true);
}

export function channelCredentials(tls: TlsFiles | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile));
}

/** A Node TLS context with this node's certificate and the cluster's CA (for connections outside gRPC). */
export function tlsSecureContext(tls: TlsFiles): SecureContext {
  return createSecureContext({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), ca: readFileSync(tls.caFile) });
}

/**
 * Options of a client TLS connection to `host` with this node's certificate, trusting only the
 * cluster's CA; the server's certificate must name `host` (SNI only for a name, not an IP address).
 */
export function tlsClientOptions(tls: TlsFiles, host: string): ConnectionOptions {
  const isIp = isIP(host) !== 0;
  return {
    cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), ca: readFileSync(tls.caFile),
    ...(isIp ? {} : { servername: host }), checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
  };
}
