import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '@rayts/common';
import { StateDiskFullError } from '../errors.js';
import { DeferredWrites } from './deferred_writes.js';

function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (msg: string) => { lines.push({ level, msg }); };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), close() {} };
  return { logger, lines };
}

const full = () => new StateDiskFullError('the head\'s state database /s/gcs.db cannot be written: its disk is full', 'free space on the filesystem that holds /s (df -h /s)');

afterEach(() => { vi.useRealTimers(); });

describe('DeferredWrites', () => {
  it('keeps a change the full disk refused, runs it again until it goes through, and logs what it could not record at most once per interval', () => {
    vi.useFakeTimers();
    let now = 0;
    const { logger, lines } = recordingLogger();
    const writes = new DeferredWrites({ logger, retryMs: 100, logIntervalMs: 1000, now: () => now });
    let diskFull = true;
    const done: string[] = [];
    const change = (name: string) => () => {
      if (diskFull) throw full();
      done.push(name);
    };
    expect(writes.run('that node n1 is DEAD', change('n1'))).toBe(false);
    expect(writes.run('that actor a1 lost its node', change('a1'))).toBe(false);
    expect(writes.waiting).toBe(2);
    for (let i = 0; i < 5; i++) { now += 100; vi.advanceTimersByTime(100); }
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('cannot record that node n1 is DEAD: the head\'s state database /s/gcs.db cannot be written: its disk is full; free space on the filesystem that holds /s');
    now += 1000;
    vi.advanceTimersByTime(100);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(2);
    expect(done).toEqual([]);

    diskFull = false;
    vi.advanceTimersByTime(100);
    expect(done).toEqual(['n1', 'a1']);
    expect(writes.waiting).toBe(0);
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: expect.stringContaining('writes its state again') });
    vi.advanceTimersByTime(1000);
    expect(done).toEqual(['n1', 'a1']);
  });

  it('a newer change under the same name replaces the kept one; a change that goes through at once is not kept', () => {
    vi.useFakeTimers();
    const { logger } = recordingLogger();
    const writes = new DeferredWrites({ logger, retryMs: 100, logIntervalMs: 1000 });
    let diskFull = true;
    const done: string[] = [];
    const change = (name: string) => () => { if (diskFull) throw full(); done.push(name); };
    writes.run('why actor a1 waits', change('old'));
    writes.run('why actor a1 waits', change('new'));
    expect(writes.waiting).toBe(1);
    diskFull = false;
    expect(writes.run('that job j1 ended', change('j1'))).toBe(true);
    vi.advanceTimersByTime(100);
    expect(done).toEqual(['j1', 'new']);
  });

  it('any other error is not kept: it is thrown to the caller', () => {
    const writes = new DeferredWrites({ logger: recordingLogger().logger, retryMs: 100, logIntervalMs: 1000 });
    expect(() => writes.run('x', () => { throw new TypeError('a bug'); })).toThrow(TypeError);
    expect(writes.waiting).toBe(0);
    writes.stop();
  });
});
