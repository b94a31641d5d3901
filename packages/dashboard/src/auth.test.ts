import { describe, expect, it } from 'vitest';
import { Authenticator, SessionCookies } from './auth.js';

const TOKEN = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);
const HOUR = 3600_000;

describe('SessionCookies', () => {
  it('issues a cookie that verifies, and that does not contain the token', () => {
    const cookies = new SessionCookies(TOKEN, HOUR, () => 1_000_000);
    const c = cookies.issue();
    expect(c.value).toMatch(/^v1\.1000000\.[A-Za-z0-9_-]{43}$/);
    expect(c.value).not.toContain(TOKEN);
    expect(c.value).not.toContain(TOKEN.slice(0, 16));
    expect(c.maxAgeS).toBe(3600);
    expect(c.expiresAtMs).toBe(1_000_000 + HOUR);
    expect(cookies.verify(c.value)).toBe('ok');
  });

  it('a cookie signed with another token, or altered, does not verify', () => {
    const mine = new SessionCookies(TOKEN, HOUR, () => 5_000);
    const theirs = new SessionCookies(OTHER, HOUR, () => 5_000).issue().value;
    expect(mine.verify(theirs)).toBe('bad-signature');
    const good = mine.issue().value;
    const [v, , mac] = good.split('.');
    expect(mine.verify(`${v}.4999.${mac}`)).toBe('bad-signature');
    const flipped = mac!.startsWith('A') ? `B${mac!.slice(1)}` : `A${mac!.slice(1)}`;
    expect(mine.verify(`${v}.5000.${flipped}`)).toBe('bad-signature');
  });

  it('malformed values are refused', () => {
    const cookies = new SessionCookies(TOKEN, HOUR);
    for (const bad of ['', TOKEN, 'v1.x.y', 'v2.1.' + 'a'.repeat(43), 'v1.1.' + 'a'.repeat(42), 'v1.1.' + 'a'.repeat(43) + '.x']) {
      expect(cookies.verify(bad), bad).toBe('malformed');
    }
  });

  it('expires after the TTL, and refuses cookies from the future beyond a minute of skew', () => {
    let now = 10 * HOUR;
    const cookies = new SessionCookies(TOKEN, HOUR, () => now);
    const c = cookies.issue().value;
    now += HOUR - 1;
    expect(cookies.verify(c)).toBe('ok');
    now += 1;
    expect(cookies.verify(c)).toBe('expired');
    now = 10 * HOUR - 61_000;
    expect(cookies.verify(c)).toBe('expired');
    now = 10 * HOUR - 59_000;
    expect(cookies.verify(c)).toBe('ok');
  });

  it('a revoked cookie stays refused; other cookies stay valid', () => {
    let now = 1_000;
    const cookies = new SessionCookies(TOKEN, HOUR, () => now);
    const a = cookies.issue().value;
    now += 1;
    const b = cookies.issue().value;
    cookies.revoke(a);
    expect(cookies.verify(a)).toBe('revoked');
    expect(cookies.verify(b)).toBe('ok');
    cookies.revoke('garbage');
    expect(cookies.verify(b)).toBe('ok');
  });
});

describe('Authenticator', () => {
  const cookies = new SessionCookies(TOKEN, HOUR);
  const auth = new Authenticator(TOKEN, cookies);

  it('accepts the token as a bearer header, and a valid cookie', () => {
    expect(auth.authenticate(`Bearer ${TOKEN}`, undefined)).toEqual({ ok: true, method: 'bearer' });
    expect(auth.authenticate(`bearer   ${TOKEN}`, undefined)).toEqual({ ok: true, method: 'bearer' });
    expect(auth.authenticate(undefined, cookies.issue().value)).toEqual({ ok: true, method: 'cookie' });
  });

  it('refuses missing, malformed and wrong credentials, naming which', () => {
    expect(auth.authenticate(undefined, undefined)).toMatchObject({ ok: false, reason: 'no credentials' });
    for (const header of ['', 'Basic abc', 'Bearer', `Bearer ${TOKEN} x`, TOKEN]) {
      expect(auth.authenticate(header, undefined), header).toMatchObject({ ok: false, reason: 'malformed authorization header' });
    }
    for (const wrong of [OTHER, 'ab', TOKEN + '0', TOKEN.toUpperCase()]) {
      expect(auth.authenticate(`Bearer ${wrong}`, undefined), wrong).toMatchObject({ ok: false, reason: 'wrong token' });
    }
    expect(auth.authenticate(undefined, 'v1.1.' + 'a'.repeat(43))).toMatchObject({ ok: false, reason: 'session cookie bad-signature' });
  });

  it('a wrong Authorization header is not rescued by a valid cookie', () => {
    expect(auth.authenticate(`Bearer ${OTHER}`, cookies.issue().value)).toMatchObject({ ok: false, reason: 'wrong token' });
  });

  it('isToken compares the login body', () => {
    expect(auth.isToken(TOKEN)).toBe(true);
    expect(auth.isToken(OTHER)).toBe(false);
    expect(auth.isToken('')).toBe(false);
    expect(auth.isToken(42)).toBe(false);
  });
});
