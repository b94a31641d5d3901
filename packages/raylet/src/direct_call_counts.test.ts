import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectCallCounts } from './direct_call_counts.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rayts-calls-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a counts file as an actor worker does (started, finished, failed). */
function counts(path: string, started: number, finished: number, failed: number): void {
  const buf = Buffer.alloc(24);
  buf.writeDoubleLE(started, 0);
  buf.writeDoubleLE(finished, 8);
  buf.writeDoubleLE(failed, 16);
  writeFileSync(path, buf);
}

describe('DirectCallCounts', () => {
  it('adds the live workers\' files to what exited workers counted, each call once', () => {
    const calls = new DirectCallCounts(join(dir, 'actor_calls'));
    const a = calls.pathFor('worker-a');
    const b = calls.pathFor('worker-b');
    expect(calls.totals()).toEqual({ finished: 0, failed: 0 });
    counts(a, 5, 4, 1);
    counts(b, 2, 2, 0);
    expect(calls.totals()).toEqual({ finished: 6, failed: 1 });
    // Worker a was killed with two calls running: they failed, and the file goes.
    counts(a, 8, 5, 1);
    calls.retire('worker-a');
    expect(existsSync(a)).toBe(false);
    expect(calls.totals()).toEqual({ finished: 7, failed: 3 });
    // Retiring twice (or an unknown worker) changes nothing.
    calls.retire('worker-a');
    calls.retire('worker-z');
    expect(calls.totals()).toEqual({ finished: 7, failed: 3 });
  });

  it('counts nothing for a worker that never wrote its file', () => {
    const calls = new DirectCallCounts(join(dir, 'actor_calls'));
    calls.pathFor('w');
    calls.retire('w');
    expect(calls.totals()).toEqual({ finished: 0, failed: 0 });
  });
});
