/** ProcessUsage: CPU since the previous reading (or since start), resident bytes, exited processes as undefined. */
import { describe, expect, it } from 'vitest';
import { ProcessUsage, type ProcReader } from './process_usage.js';

/** /proc/<pid>/stat with utime, stime and starttime set (in ticks); the command name has a space and a ')'. */
const stat = (utime: number, stime: number, start: number, state = 'S') =>
  `42 (node a) b) ${state} 1 42 42 0 -1 4194560 1 0 0 0 ${utime} ${stime} 0 0 20 0 11 0 ${start} 100 5 0`;

describe('ProcessUsage', () => {
  it('first reading averages since the process started, then CPU since the previous reading', () => {
    let now = 10_000;
    let s = stat(300, 100, 1000); // 4 s of CPU; started at 10 s after boot
    const proc: ProcReader = { read: (_pid, file) => (file === 'stat' ? s : '5000 2500 100 1 0 900 0'), uptimeS: () => 18, nowMs: () => now };
    const usage = new ProcessUsage(proc);
    expect(usage.read([42])).toEqual([{ cpuPercent: 50, rssBytes: 2500 * 4096 }]); // 4 s over 8 s
    now += 2000;
    s = stat(450, 150, 1000); // 2 s more CPU in 2 s of wall time
    expect(usage.read([42])[0]!.cpuPercent).toBeCloseTo(100);
    now += 1000;
    expect(usage.read([42])[0]!.cpuPercent).toBe(0);
  });

  it('a process that is gone has no usage', () => {
    const usage = new ProcessUsage({ read: () => undefined, uptimeS: () => 1, nowMs: () => 1 });
    expect(usage.read([7, 8])).toEqual([undefined, undefined]);
  });

  it('a zombie (exited, not yet reaped; /proc shows its memory as 0) has no usage', () => {
    const usage = new ProcessUsage({ read: (_pid, file) => (file === 'stat' ? stat(300, 100, 1000, 'Z') : '0 0 0 0 0 0 0'), uptimeS: () => 18, nowMs: () => 1 });
    expect(usage.read([42])).toEqual([undefined]);
  });

  it('reads this very process from the real /proc', () => {
    const [u] = new ProcessUsage().read([process.pid]);
    expect(u!.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(u!.cpuPercent).toBeGreaterThan(0);
  });
});
