import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuthenticationError } from '../errors.js';
import { bearer, checkBearer, generateToken, isWellFormedToken, readTokenFile, tokenFromHeader, tokensEqual, writeTokenFile } from './auth.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-test-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function authErrorOf(fn: () => unknown): AuthenticationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuthenticationError);
    return err as AuthenticationError;
  }
  throw new Error('expected an AuthenticationError, nothing was thrown');
}

describe('generateToken', () => {
  it('gives 64 lowercase hex characters', () => {
    const token = generateToken();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(isWellFormedToken(token)).toBe(true);
  });

  it('is random', () => {
    const tokens = new Set(Array.from({ length: 20 }, () => generateToken()));
    expect(tokens.size).toBe(20);
  });
});

describe('token files', () => {
  it('writeTokenFile creates a 0600 file and leaves no temp file', () => {
    const file = path.join(dir, 'token');
    const token = generateToken();
    writeTokenFile(file, token);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(token);
    expect(fs.readdirSync(dir)).toEqual(['token']);
  });

  it('writeTokenFile tightens the mode of a file it replaces', () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'old', { mode: 0o644 });
    writeTokenFile(file, generateToken());
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('readTokenFile round-trips', () => {
    const file = path.join(dir, 'token');
    const token = generateToken();
    writeTokenFile(file, token);
    expect(readTokenFile(file)).toBe(token);
  });

  it('readTokenFile tolerates surrounding whitespace', () => {
    const file = path.join(dir, 'token');
    const token = generateToken();
    fs.writeFileSync(file, `  ${token}\n\n`, { mode: 0o600 });
    expect(readTokenFile(file)).toBe(token);
  });

  it('readTokenFile refuses junk', () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'not a token\n', { mode: 0o600 });
    const err = authErrorOf(() => readTokenFile(file));
    expect(err.message).toContain(file);
    expect(err.message).not.toContain('not a token');
  });

  it('readTokenFile refuses a token of the wrong length or case', () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, generateToken().slice(0, 63), { mode: 0o600 });
    authErrorOf(() => readTokenFile(file));
    fs.writeFileSync(file, generateToken().toUpperCase(), { mode: 0o600 });
    authErrorOf(() => readTokenFile(file));
  });

  it('readTokenFile refuses a missing file with a hint', () => {
    const file = path.join(dir, 'absent');
    const err = authErrorOf(() => readTokenFile(file));
    expect(err.message).toContain(file);
    expect(err.message).toContain('ENOENT');
    expect(err.hint).toBeTruthy();
    expect(err.hint).toContain('get-auth-token');
  });
});

describe('tokensEqual', () => {
  it('is true for equal tokens', () => {
    const token = generateToken();
    expect(tokensEqual(token, `${token}`)).toBe(true);
  });

  it('is false for different tokens of the same length', () => {
    const token = generateToken();
    const other = (token[0] === 'a' ? 'b' : 'a') + token.slice(1);
    expect(tokensEqual(other, token)).toBe(false);
  });

  it('is false (and does not throw) for different lengths', () => {
    const token = generateToken();
    expect(tokensEqual(token.slice(0, 10), token)).toBe(false);
    expect(tokensEqual('', token)).toBe(false);
    expect(tokensEqual(token + '0', token)).toBe(false);
  });
});

describe('tokenFromHeader', () => {
  it('parses a Bearer header', () => {
    expect(tokenFromHeader('Bearer x')).toBe('x');
    expect(tokenFromHeader('bearer   abc123 ')).toBe('abc123');
    const token = generateToken();
    expect(tokenFromHeader(bearer(token))).toBe(token);
  });

  it('gives an empty string for anything else', () => {
    expect(tokenFromHeader(undefined)).toBe('');
    expect(tokenFromHeader(42)).toBe('');
    expect(tokenFromHeader('x')).toBe('');
    expect(tokenFromHeader('Basic x')).toBe('');
    expect(tokenFromHeader('Bearer ')).toBe('');
    expect(tokenFromHeader('Bearer a b')).toBe('');
  });
});

describe('checkBearer', () => {
  const token = 'a'.repeat(64);
  it('says ok only for the exact token as a Bearer value', () => {
    expect(checkBearer(bearer(token), token)).toBe('ok');
    expect(checkBearer(`bearer   ${token}`, token)).toBe('ok');
  });
  it('tells a missing or malformed header from a wrong token', () => {
    expect(checkBearer(undefined, token)).toBe('missing');
    expect(checkBearer('', token)).toBe('missing');
    expect(checkBearer(`Basic ${token}`, token)).toBe('missing');
    expect(checkBearer(Buffer.from(bearer(token)), token)).toBe('missing');
    expect(checkBearer(bearer('b'.repeat(64)), token)).toBe('wrong');
    expect(checkBearer(bearer('a'), token)).toBe('wrong');
  });
});
