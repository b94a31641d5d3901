import { describe, expect, it } from 'vitest';
import { packRun, parseRun, unpackRun } from './messages.js';

describe('packed runs', () => {
  it('round-trip: times after the receipt travel as small numbers and come back absolute', () => {
    const run = { workerId: 'ab12', workerPid: 4242, receivedMs: 1_733_500_000_123, startMs: 1_733_500_000_125, endMs: 1_733_500_000_190, stdoutStart: 0, stdoutEnd: 17, stderrStart: -1, stderrEnd: -1 };
    const packed = packRun(run);
    expect(packed).toBe('ab12,4242,1733500000123,2,67,0,17,-1,-1');
    expect(unpackRun(packed)).toEqual(run);
  });

  it('what the raylet knows of a dead worker: its id and pid, no times', () => {
    expect(unpackRun(packRun({ workerId: 'w', workerPid: 7 }))).toEqual({
      workerId: 'w', workerPid: 7, receivedMs: undefined, startMs: undefined, endMs: undefined, stdoutStart: -1, stdoutEnd: -1, stderrStart: -1, stderrEnd: -1,
    });
  });

  it('anything else is no run', () => {
    const n = new Float64Array(8);
    for (const bad of ['', 'w', 'w,1,2,3', 'w,1,2,3,4,5,6,7,8,9', 'w,1,2,3,4,5,6,7,x', 'w,1,2,3,4,5,6,7,', 'w,,2,3,4,5,6,7,8', `w,${'9'.repeat(20)},2,3,4,5,6,7,8`]) {
      expect(parseRun(bad, n), JSON.stringify(bad)).toBeUndefined();
    }
  });
});
