/**
 * Who may use the HTTP API: a client that presents the cluster token (`Authorization: Bearer
 * <token>`, compared in constant time by common's `tokensEqual`), or a browser holding the session
 * cookie that `POST /api/login` set.
 *
 * The cookie never contains the token. Its value is `v1.<issued-at ms>.<mac>` where
 * mac = base64url(HMAC-SHA256(K, "v1.<issued-at ms>")) and K = HMAC-SHA256(token, "rayts dashboard
 * session"). The server verifies it statelessly (recompute, compare in constant time, check the age
 * against RAYTS_DASHBOARD_SESSION_TTL_S), so it survives nothing but the token: a new token voids
 * every cookie, and a stolen cookie reveals nothing about the token (HMAC is one-way) and expires.
 * Logout revokes the cookie it was sent with (an in-memory list, kept until the cookie would have
 * expired; a head restart forgets it, which the expiry bounds).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { tokenFromHeader, tokensEqual } from '@rayts/common';

export const SESSION_COOKIE = 'rayts_session';
const COOKIE_KEY_LABEL = 'rayts dashboard session';
const COOKIE_RE = /^v1\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/;
/** A cookie issued this far in the future (clock skew) is still accepted. */
const FUTURE_SKEW_MS = 60_000;
const MAX_REVOKED = 10_000;

export type CookieVerdict = 'ok' | 'malformed' | 'bad-signature' | 'expired' | 'revoked';

export interface IssuedCookie {
  value: string;
  maxAgeS: number;
  expiresAtMs: number;
}

export class SessionCookies {
  private readonly key: Buffer;
  /** mac → when the revoked cookie would have expired. */
  private readonly revoked = new Map<string, number>();

  constructor(token: string, private readonly ttlMs: number, private readonly now: () => number = Date.now) {
    this.key = createHmac('sha256', token).update(COOKIE_KEY_LABEL).digest();
  }

  issue(): IssuedCookie {
    const issuedAt = this.now();
    return { value: `v1.${issuedAt}.${this.mac(issuedAt)}`, maxAgeS: Math.floor(this.ttlMs / 1000), expiresAtMs: issuedAt + this.ttlMs };
  }

  verify(value: string): CookieVerdict {
    const m = COOKIE_RE.exec(value);
    if (!m) return 'malformed';
    const issuedAt = Number(m[1]);
    const presented = Buffer.from(m[2]!);
    const expected = Buffer.from(this.mac(issuedAt));
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return 'bad-signature';
    const now = this.now();
    if (issuedAt > now + FUTURE_SKEW_MS || now - issuedAt >= this.ttlMs) return 'expired';
    if (this.revoked.has(m[2]!)) return 'revoked';
    return 'ok';
  }

  /** Voids a valid cookie until it would have expired anyway (logout). */
  revoke(value: string): void {
    const m = COOKIE_RE.exec(value);
    if (!m || this.verify(value) !== 'ok') return;
    const now = this.now();
    for (const [mac, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(mac);
    if (this.revoked.size >= MAX_REVOKED) this.revoked.delete(this.revoked.keys().next().value!);
    this.revoked.set(m[2]!, Number(m[1]) + this.ttlMs);
  }

  private mac(issuedAt: number): string {
    return createHmac('sha256', this.key).update(`v1.${issuedAt}`).digest('base64url');
  }
}

export type AuthMethod = 'bearer' | 'cookie';

export type AuthResult =
  | { ok: true; method: AuthMethod }
  | { ok: false; reason: string; message: string; hint?: string };

const LOGIN_HINT = 'send `Authorization: Bearer <token>` (`rayts get-auth-token` on the head prints the token) or log in with POST /api/login';

export class Authenticator {
  constructor(private readonly token: string, private readonly cookies: SessionCookies) {}

  /** True when `presented` is the cluster token (constant time). */
  isToken(presented: unknown): boolean {
    return typeof presented === 'string' && presented.length > 0 && tokensEqual(presented, this.token);
  }

  /**
   * An Authorization header, when present, decides alone (a wrong one is not rescued by a cookie);
   * otherwise the session cookie.
   */
  authenticate(authorization: string | undefined, cookie: string | undefined): AuthResult {
    if (authorization !== undefined) {
      const presented = tokenFromHeader(authorization);
      if (!presented) {
        return { ok: false, reason: 'malformed authorization header', message: 'malformed Authorization header: expected `Bearer <token>`', hint: LOGIN_HINT };
      }
      if (!this.isToken(presented)) return { ok: false, reason: 'wrong token', message: 'wrong cluster token', hint: LOGIN_HINT };
      return { ok: true, method: 'bearer' };
    }
    if (cookie !== undefined) {
      const verdict = this.cookies.verify(cookie);
      if (verdict === 'ok') return { ok: true, method: 'cookie' };
      return {
        ok: false, reason: `session cookie ${verdict}`,
        message: verdict === 'expired' || verdict === 'revoked' ? 'the session has ended; log in again' : 'invalid session cookie',
        hint: LOGIN_HINT,
      };
    }
    return { ok: false, reason: 'no credentials', message: 'this route needs the cluster token', hint: LOGIN_HINT };
  }
}
