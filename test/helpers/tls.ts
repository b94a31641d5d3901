/** Certificates for tests of the cluster's mutual TLS. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const hasOpenssl = existsSync('/usr/bin/openssl');

/** A CA and one certificate for 127.0.0.1-127.0.0.3, made with the system's openssl. */
export function makeCertificates(dir: string): { cert: string; key: string; ca: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=rayts-test-ca']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=rayts-node']);
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3\\nextendedKeyUsage=serverAuth,clientAuth\\n" > ext.cnf'], { cwd: dir });
  run(['x509', '-req', '-in', 'node.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.pem', '-days', '2', '-extfile', 'ext.cnf']);
  return { cert: join(dir, 'node.pem'), key: join(dir, 'node.key'), ca: join(dir, 'ca.pem') };
}

