/**
 * Long-poll waiters by record id. A reader that has seen a record's version waits here until the
 * record changes or its own deadline passes; the writer wakes every waiter of the record after each
 * change. The waiters know nothing of versions: each caller numbers its records as it needs (and
 * checks the version again after waking), so a wake-up is only ever a hint to look again.
 */
export class VersionWaiters {
  /** Only keys with at least one waiter are present (a timed-out waiter removes itself). */
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves at the next `wake(key)` (or `wakeAll()`), or after `ms`, whichever comes first. */
  wait(key: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const waiting = set;
      const wake = (): void => {
        clearTimeout(timer);
        waiting.delete(wake);
        if (waiting.size === 0 && this.waiters.get(key) === waiting) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiting.add(wake);
    });
  }

  /** Wakes every waiter of `key` (the record changed). */
  wake(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  /** Wakes every waiter (the server stops). */
  wakeAll(): void {
    for (const key of [...this.waiters.keys()]) this.wake(key);
  }

  /** Keys someone waits on. */
  get size(): number {
    return this.waiters.size;
  }
}
