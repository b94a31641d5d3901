/**
 * CPU and resident memory of the node's worker processes, for GetNodeStats (the dashboard's node
 * page): CPU is the process's user + system time since the previous reading of the same pid, over
 * the wall time between them (100 % = one core; the first reading averages since the process
 * started); memory is its resident set. Read from /proc. A process that is gone, or has exited and
 * waits to be reaped (a zombie, whose memory reads as 0), has no usage: `undefined`.
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ (the unit of /proc/<pid>/stat times) and page size on the platforms rayts runs on. */
const CLOCK_TICKS_PER_S = 100;
const PAGE_BYTES = 4096;
/** /proc/<pid>/stat states of a process that has exited: zombie, dead. */
const EXITED_STATES = new Set(['Z', 'X', 'x']);

export interface ProcReader {
  /** The text of /proc/<pid>/<file>, or undefined when the process is gone. */
  read(pid: number, file: 'stat' | 'statm'): string | undefined;
  /** Seconds since boot (/proc/uptime). */
  uptimeS(): number;
  nowMs(): number;
}

export const PROC: ProcReader = {
  read(pid, file) {
    try { return readFileSync(`/proc/${pid}/${file}`, 'utf8'); } catch { return undefined; }
  },
  uptimeS: () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]),
  nowMs: () => Date.now(),
};

export interface Usage {
  cpuPercent: number;
  rssBytes: number;
}

export class ProcessUsage {
  private readonly last = new Map<number, { cpuTicks: number; atMs: number }>();

  constructor(private readonly proc: ProcReader = PROC) {}

  /** The usage of each pid (same order), undefined for one that has exited; forgets pids not asked about this time. */
  read(pids: number[]): (Usage | undefined)[] {
    const nowMs = this.proc.nowMs();
    const seen = new Set(pids);
    for (const pid of this.last.keys()) if (!seen.has(pid)) this.last.delete(pid);
    return pids.map((pid) => this.one(pid, nowMs));
  }

  private one(pid: number, nowMs: number): Usage | undefined {
    const stat = this.proc.read(pid, 'stat');
    const statm = this.proc.read(pid, 'statm');
    if (!stat || !statm) return undefined;
    // Fields after the command name (which may hold spaces): state is 3, utime, stime 14 and 15, starttime 22.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (EXITED_STATES.has(rest[0]!)) return undefined;
    const cpuTicks = Number(rest[11]) + Number(rest[12]);
    const rssBytes = Number(statm.split(' ')[1]) * PAGE_BYTES;
    const previous = this.last.get(pid);
    this.last.set(pid, { cpuTicks, atMs: nowMs });
    let cpuS: number;
    let wallS: number;
    if (previous && nowMs > previous.atMs) {
      cpuS = (cpuTicks - previous.cpuTicks) / CLOCK_TICKS_PER_S;
      wallS = (nowMs - previous.atMs) / 1000;
    } else {
      cpuS = cpuTicks / CLOCK_TICKS_PER_S;
      wallS = this.proc.uptimeS() - Number(rest[19]) / CLOCK_TICKS_PER_S;
    }
    return { cpuPercent: wallS > 0 ? Math.max(0, (cpuS / wallS) * 100) : 0, rssBytes: Number.isFinite(rssBytes) ? rssBytes : 0 };
  }
}
