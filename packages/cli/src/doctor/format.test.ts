import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { doctorExitCode, doctorJson, renderDoctor } from './format.js';
import type { Finding } from './types.js';

const ok: Finding = { check: 'clock skew', scope: 'this host', status: 'ok', finding: 'in sync', fix: '' };
const fail: Finding = { check: 'token file', scope: 'node 10.0.0.1 (head)', status: 'fail', finding: 'mode 0644', fix: 'chmod 600 /t' };
const warn: Finding = { check: 'open files', scope: 'this host', status: 'warn', finding: 'low', fix: 'raise it' };

describe('doctor report', () => {
  it('exit 1 only when a check failed', () => {
    expect(doctorExitCode([ok, warn])).toBe(0);
    expect(doctorExitCode([ok, fail])).toBe(1);
  });

  it('renders a table with each fix under its line and a summary', () => {
    const text = renderDoctor('10.0.0.1:6379', [ok, fail, warn], new Chalk({ level: 0 }));
    expect(text).toBe([
      'rayts doctor: cluster at 10.0.0.1:6379', '',
      'STATUS  CHECK       WHERE                 FINDING',
      'OK      clock skew  this host             in sync',
      'FAIL    token file  node 10.0.0.1 (head)  mode 0644',
      '      fix: chmod 600 /t',
      'WARN    open files  this host             low',
      '      fix: raise it',
      '', '1 ok, 1 warnings, 1 failed, 0 skipped', '',
    ].join('\n'));
  });

  it('JSON carries the address, the counts and every finding', () => {
    expect(doctorJson('h:1', [ok, fail])).toEqual({ address: 'h:1', summary: { ok: 1, warn: 0, fail: 1, skip: 0 }, checks: [ok, fail] });
  });
});
