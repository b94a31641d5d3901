import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallCountsFile, openCallCountsFile, readCallCounts } from './call_counts.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rayts-calls-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('actor call counts file', () => {
  it('holds what the worker counted after every call, for a reader in another process', () => {
    const path = join(dir, 'w1');
    const file = new CallCountsFile(path);
    expect(readCallCounts(path)).toEqual({ started: 0, finished: 0, failed: 0 });
    file.started();
    file.started();
    expect(readCallCounts(path)).toEqual({ started: 2, finished: 0, failed: 0 });
    file.ended(false);
    file.ended(true);
    expect(readCallCounts(path)).toEqual({ started: 2, finished: 1, failed: 1 });
    file.close();
    // Closing keeps the file: the raylet reads it once more after the worker exited.
    expect(readCallCounts(path)).toEqual({ started: 2, finished: 1, failed: 1 });
  });

  it('reads a missing or short file as zeros', () => {
    expect(readCallCounts(join(dir, 'none'))).toEqual({ started: 0, finished: 0, failed: 0 });
    writeFileSync(join(dir, 'short'), Buffer.alloc(5));
    expect(readCallCounts(join(dir, 'short'))).toEqual({ started: 0, finished: 0, failed: 0 });
  });

  it('never fails the actor when the file cannot be opened: the calls go uncounted', () => {
    const counter = openCallCountsFile(join(dir, 'missing-dir', 'w1'));
    expect(() => { counter.started(); counter.ended(false); }).not.toThrow();
  });
});
