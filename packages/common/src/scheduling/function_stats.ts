/**
 * How each function has behaved: pipelining (sending a task to a busy worker behind its running one)
 * is only for tasks known to be short. A raylet keeps one for the tasks it dispatches, an owner one for
 * the tasks it pushes to its leased workers.
 */
/** When short tasks are sent to a busy worker behind its running one. */
export interface PipelineLimits {
  /** Most tasks queued behind a running one on a worker. */
  depth: number;
  /** Only functions whose runs average below this are pipelined... */
  maxAvgMs: number;
  /** ...once they ran this often here. */
  minRuns: number;
}


interface Stats {
  runs: number;
  avgMs: number;
  blockedEver: boolean;
}

export class FunctionStats {
  private readonly byHash = new Map<string, Stats>();

  constructor(private readonly limits: PipelineLimits) {}

  /** Short enough, often enough, and never blocked in `get`: it may wait behind a running task. */
  pipelinable(fnHash: string): boolean {
    const f = this.byHash.get(fnHash);
    return !!f && f.runs >= this.limits.minRuns && f.avgMs < this.limits.maxAvgMs && !f.blockedEver;
  }

  recordRun(fnHash: string, ms: number): void {
    const f = this.byHash.get(fnHash) ?? { runs: 0, avgMs: 0, blockedEver: false };
    f.avgMs = f.runs === 0 ? ms : f.avgMs * 0.9 + ms * 0.1;
    f.runs += 1;
    this.byHash.set(fnHash, f);
  }

  recordBlocked(fnHash: string): void {
    const f = this.byHash.get(fnHash);
    if (f) f.blockedEver = true;
    else this.byHash.set(fnHash, { runs: 0, avgMs: 0, blockedEver: true });
  }
}
