/**
 * The cluster token: 32 random bytes as 64 hex characters, kept in 0600 files, sent as
 * `authorization: Bearer <token>` on every call and compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync, statSync } from 'node:fs';
import { AuthenticationError } from '../errors.js';

export const TOKEN_BYTES = 32;
export const AUTH_METADATA_KEY = 'authorization';

export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex');
}

export function isWellFormedToken(token: string): boolean {
  return /^[0-9a-f]{64}$/.test(token);
}

/** Writes the token atomically with mode 0600 (never world-readable, not even briefly). */
export function writeTokenFile(path: string, token: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, token + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AuthenticationError(`cannot read the token file ${path} (${code ?? String(err)})`,
      'copy the cluster token from the head (`rayts get-auth-token` there) into this file, mode 0600');
  }
  const token = text.trim();
  if (!isWellFormedToken(token)) {
    throw new AuthenticationError(`the token file ${path} does not hold a rayts token (64 hex characters)`,
      'print the right one on the head with `rayts get-auth-token`');
  }
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    // Not fatal: ops may have a reason. But say it, since the token grants code execution.
    process.stderr.write(`Warning: the token file ${path} is readable by other users; chmod 600 it\n`);
  }
  return token;
}

/** Constant-time comparison that does not leak the length either (both sides are hashed first). */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** What an `authorization` header (gRPC metadata or HTTP) says about the caller. */
export type BearerCheck = 'ok' | 'missing' | 'wrong';

/**
 * Checks an `authorization: Bearer <token>` value against the cluster token, in constant time: the
 * one check every listener (gRPC servers, HTTP endpoints) makes before it reads anything else.
 */
export function checkBearer(header: unknown, expected: string): BearerCheck {
  const presented = tokenFromHeader(header);
  if (!presented) return 'missing';
  return tokensEqual(presented, expected) ? 'ok' : 'wrong';
}

/** Extracts the token from an `authorization` header value; '' when absent or malformed. */
export function tokenFromHeader(value: unknown): string {
  if (typeof value !== 'string') return '';
  const match = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return match ? match[1]! : '';
}
