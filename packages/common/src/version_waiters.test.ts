import { afterEach, describe, expect, it, vi } from 'vitest';
import { VersionWaiters } from './version_waiters.js';

describe('VersionWaiters', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('wake(key) resolves every waiter of that key and no other', async () => {
    const w = new VersionWaiters();
    const woken: string[] = [];
    const a1 = w.wait('a', 60_000).then(() => woken.push('a1'));
    const a2 = w.wait('a', 60_000).then(() => woken.push('a2'));
    void w.wait('b', 60_000).then(() => woken.push('b'));
    expect(w.size).toBe(2);
    w.wake('a');
    await Promise.all([a1, a2]);
    expect(woken.sort()).toEqual(['a1', 'a2']);
    expect(w.size).toBe(1);
    w.wakeAll();
    await Promise.resolve();
    await Promise.resolve();
    expect(woken).toContain('b');
    expect(w.size).toBe(0);
  });

  it('a waiter resolves at its deadline and leaves no empty entry behind', async () => {
    vi.useFakeTimers();
    const w = new VersionWaiters();
    let done = false;
    const p = w.wait('x', 500).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
    expect(w.size).toBe(0);
  });

  it('waking a key nobody waits on does nothing; a woken waiter does not fire again at its deadline', async () => {
    vi.useFakeTimers();
    const w = new VersionWaiters();
    w.wake('none');
    let count = 0;
    const p = w.wait('k', 100).then(() => count++);
    w.wake('k');
    await p;
    await vi.advanceTimersByTimeAsync(200);
    expect(count).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
