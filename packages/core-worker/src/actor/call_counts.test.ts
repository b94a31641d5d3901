import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadNative } from '@rayts/object-store';
import { CallCountsFile, openCallCountsFile, readCallCounts } from './call_counts.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rayts-calls-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('actor call counts file', () => {
  it('holds what the worker counted after every call, for a reader in another process', () => {
    const path = join(dir, 'w1');
    const file = new CallCountsFile(path, loadNative());
    expect(readCallCounts(path)).toEqual({ started: 0, finished: 0, failed: 0 });
    file.started();
    file.started();
    expect(readCallCounts(path)).toEqual({ started: 2, finished: 0, failed: 0 });
    file.ended(false);
    file.ended(true);
    expect(readCallCounts(path)).toEqual({ started: 2, finished: 1, failed: 1 });
  });

  it('keeps what a worker counted when the worker is killed with SIGKILL', () => {
    const path = join(dir, 'killed');
    const moduleUrl = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'actor', 'call_counts.js')).href;
    const storeUrl = pathToFileURL(join(import.meta.dirname, '..', '..', '..', 'object-store', 'dist', 'index.js')).href;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const { CallCountsFile } = await import(${JSON.stringify(moduleUrl)});
      const { loadNative } = await import(${JSON.stringify(storeUrl)});
      const file = new CallCountsFile(${JSON.stringify(path)}, loadNative());
      for (let i = 0; i < 5; i++) file.started();
      for (let i = 0; i < 3; i++) file.ended(false);
      file.ended(true);
      process.kill(process.pid, 'SIGKILL');
    `], { encoding: 'utf8' });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(readCallCounts(path)).toEqual({ started: 5, finished: 3, failed: 1 });
  });

  it('reads a missing or short file as zeros', () => {
    expect(readCallCounts(join(dir, 'none'))).toEqual({ started: 0, finished: 0, failed: 0 });
    writeFileSync(join(dir, 'short'), Buffer.alloc(5));
    expect(readCallCounts(join(dir, 'short'))).toEqual({ started: 0, finished: 0, failed: 0 });
  });

  it('never fails the actor when the file cannot be opened: the calls go uncounted', () => {
    const counter = openCallCountsFile(join(dir, 'missing-dir', 'w1'), loadNative());
    expect(() => { counter.started(); counter.ended(false); }).not.toThrow();
  });
});
