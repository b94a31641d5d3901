/** listWorkers: a pool worker whose process has exited before the pool noticed is not listed alive. */
import { describe, expect, it } from 'vitest';
import { listWorkers } from './worker_listing.js';

describe('listWorkers', () => {
  it('lists live workers with their usage, an exited-but-unreaped one as not alive, and a driver it cannot read as alive', () => {
    const pool = {
      list: () => [{ workerId: 'w1', pid: 11, startTimeMs: 1 }, { workerId: 'w2', pid: 12, startTimeMs: 2 }],
      exited: () => [{ workerId: 'w0', pid: 10, startTimeMs: 0, endTimeMs: 1, exitType: 'SYSTEM_ERROR', exitDetail: 'killed' }],
    };
    const clients = { list: () => [{ clientId: 'd1', pid: 99, role: 'driver', jobId: '01000000', connectedAtMs: 5 }] };
    const usage = { read: (pids: number[]) => pids.map((pid) => (pid === 11 ? { cpuPercent: 12.5, rssBytes: 50 << 20 } : undefined)) };
    const listed = listWorkers(pool as never, clients as never, usage);
    const by = new Map(listed.map((w) => [w.workerId, w]));
    expect(by.get('w1')).toMatchObject({ isAlive: true, cpuPercent: 12.5, rssBytes: 50 << 20 });
    expect(by.get('w2')).toMatchObject({ isAlive: false, exitDetail: expect.stringContaining('exited') });
    expect(by.get('w2')!.rssBytes ?? 0).toBe(0);
    expect(by.get('d1')).toMatchObject({ isAlive: true, workerType: 'DRIVER' });
    expect(by.get('w0')).toMatchObject({ isAlive: false, exitType: 'SYSTEM_ERROR' });
  });
});
