import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { isAlive, pollUntil, processesWithArg, readProcStat, recordOf } from './processes.js';

/** A pid no process has: above pid_max. */
function unusedPid(): number {
  const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
  return pidMax + 1;
}

describe('readProcStat', () => {
  it('reads state, ppid, pgid and start time of this process', () => {
    const stat = readProcStat(process.pid)!;
    expect(stat).toBeDefined();
    expect(stat.pid).toBe(process.pid);
    expect(stat.ppid).toBe(process.ppid);
    expect(stat.state).toMatch(/^[RSD]$/);
    expect(Number.isInteger(stat.pgid) && stat.pgid > 0).toBe(true);
    expect(Number.isInteger(stat.startTime) && stat.startTime > 0).toBe(true);
    // The start time never changes for a running process.
    expect(readProcStat(process.pid)!.startTime).toBe(stat.startTime);
  });

  it('gives undefined for a pid that does not exist', () => {
    expect(readProcStat(unusedPid())).toBeUndefined();
  });

  it('copes with a command name containing spaces and parentheses', async () => {
    // Node sets the comm field (field 2 of /proc/<pid>/stat) from process.title on Linux.
    const child = spawn(process.execPath, ['-e', 'process.title = "a) b (c"; setInterval(()=>{},1000)'], { stdio: 'ignore' });
    try {
      const renamed = await pollUntil(() => {
        try {
          return fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').includes('(a) b (c)');
        } catch {
          return false;
        }
      }, 10_000, 10);
      expect(renamed).toBe(true);
      const stat = readProcStat(child.pid!);
      expect(stat?.state).toMatch(/^[RSD]$/);
      expect(stat?.ppid).toBe(process.pid);
      expect(stat?.pgid).toBe(readProcStat(process.pid)!.pgid);
      expect(stat?.startTime).toBeGreaterThanOrEqual(readProcStat(process.pid)!.startTime);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('isAlive', () => {
  it('is true for this process', () => {
    const record = recordOf('self', process.pid);
    expect(record.startTime).toBe(readProcStat(process.pid)!.startTime);
    expect(isAlive(record)).toBe(true);
  });

  it('is false when the start time differs (a recycled pid)', () => {
    const record = recordOf('self', process.pid);
    expect(isAlive({ pid: process.pid, startTime: record.startTime + 1 })).toBe(false);
  });

  it('is false for a pid that does not exist', () => {
    expect(isAlive({ pid: unusedPid(), startTime: 12345 })).toBe(false);
    expect(isAlive({ pid: unusedPid(), startTime: 0 })).toBe(false);
  });
});

describe('processesWithArg', () => {
  it('finds a child by a unique argument, and not after it died', async () => {
    const marker = `unique-marker-xyz-${process.pid}`;
    const child = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)', marker], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      expect(child.pid).toBeDefined();
      expect(await pollUntil(() => processesWithArg(marker).includes(child.pid!), 10_000, 10)).toBe(true);
      expect(processesWithArg(marker)).toEqual([child.pid]);
      expect(processesWithArg(marker)).not.toContain(process.pid);
    } finally {
      child.kill('SIGKILL');
    }
    await exited;
    expect(processesWithArg(marker)).toEqual([]);
  });
});

describe('pollUntil', () => {
  it('returns true as soon as the condition holds', async () => {
    let calls = 0;
    expect(await pollUntil(() => ++calls === 3, 10_000, 1)).toBe(true);
    expect(calls).toBe(3);
  });

  it('accepts an async condition', async () => {
    expect(await pollUntil(async () => true, 0)).toBe(true);
  });

  it('returns false at the deadline', async () => {
    const start = Date.now();
    let calls = 0;
    const held = await pollUntil(() => { calls += 1; return false; }, 100, 10);
    expect(held).toBe(false);
    expect(Date.now() - start).toBeGreaterThanOrEqual(100);
    expect(Date.now() - start).toBeLessThan(5_000);
    expect(calls).toBeGreaterThan(1);
  });
});
