/** Optional mutual TLS (--tls-cert, --tls-key, --tls-ca or RAYTS_TLS_*): both ends present certificates. */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';

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
