/**
 * Lets a repeated log line through at most once per interval per key (a refused call per peer), so
 * a client that hammers a daemon with bad requests cannot fill its log.
 */
export class LogThrottle {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs: number, private readonly maxKeys = 10_000, private readonly now: () => number = Date.now) {}

  /** True when a line for `key` may be written now (and records that it was). */
  allow(key: string): boolean {
    const now = this.now();
    const last = this.last.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    if (this.last.size >= this.maxKeys) this.last.clear();
    this.last.set(key, now);
    return true;
  }
}
