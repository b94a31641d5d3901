/**
 * The host as the node's metrics show it, read when Prometheus scrapes: CPU utilisation since the
 * previous reading (all cores), memory in use (total minus what the kernel calls available), and the
 * space of the filesystem that holds the session directory (logs, spill files).
 */
import { cpus, freemem, totalmem } from 'node:os';
import { statfsSync } from 'node:fs';

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

export interface SpaceUsage {
  used: number;
  total: number;
}

export class HostStats {
  private last: CpuTimes = cpuTimes();
  private lastPercent = 0;

  constructor(private readonly dir: string) {}

  /** Busy share of all cores since the previous call, in percent (the first call: since construction). */
  cpuUtilizationPercent(): number {
    const now = cpuTimes();
    const total = now.total - this.last.total;
    // Two scrapes within one clock tick see no time pass: keep the previous figure.
    if (total > 0) {
      this.lastPercent = Math.min(100, Math.max(0, (1 - (now.idle - this.last.idle) / total) * 100));
      this.last = now;
    }
    return this.lastPercent;
  }

  cpuCount(): number {
    return cpus().length;
  }

  /** `os.freemem()` is MemAvailable on Linux (libuv ≥ 1.45), so page cache counts as free. */
  memory(): SpaceUsage {
    const total = totalmem();
    return { used: total - freemem(), total };
  }

  /** The session directory's filesystem; zeros if it cannot be read (the directory went away). */
  disk(): SpaceUsage {
    try {
      const s = statfsSync(this.dir);
      return { used: (s.blocks - s.bfree) * s.bsize, total: s.blocks * s.bsize };
    } catch {
      return { used: 0, total: 0 };
    }
  }
}
