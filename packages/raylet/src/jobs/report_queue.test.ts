/** ReportQueue: driver states reach the head in order, survive an outage, and a newer state replaces an unsent one. */
import { describe, expect, it } from 'vitest';
import { ClusterUnreachableError, InvalidRequestError, nullLogger, pollUntil, type JobDriverState } from '@rayts/common';
import { ReportQueue } from './report_queue.js';

const state = (phase: JobDriverState['phase'], pid = 0): JobDriverState => ({ submissionId: 's1', phase, pid });

describe('ReportQueue', () => {
  it('sends again while the head is unreachable, in order, the latest state replacing one not sent yet', async () => {
    const received: string[] = [];
    const delivered: string[] = [];
    let headUp = false;
    let releaseFirst!: () => void;
    const firstInFlight = new Promise<void>((r) => { releaseFirst = r; });
    let calls = 0;
    const queue = new ReportQueue(async (s) => {
      calls += 1;
      // PREPARING is in flight (and taken) while the next states arrive; then the head goes down.
      if (calls === 1) await firstInFlight;
      else if (!headUp) throw new ClusterUnreachableError('no rayts head answers');
      received.push(String(s.phase));
    }, { initialMs: 5, maxMs: 20 }, nullLogger, (s) => delivered.push(String(s.phase)));

    queue.push(state('JOB_DRIVER_PREPARING'));
    queue.push(state('JOB_DRIVER_RUNNING', 42));
    queue.push(state('JOB_DRIVER_EXITED', 42));
    releaseFirst();
    // The next state is sent again and again while the head is down, and nothing else is delivered.
    expect(await pollUntil(() => calls >= 4, 5000, 2)).toBe(true);
    expect(delivered).toEqual(['JOB_DRIVER_PREPARING']);
    headUp = true;
    expect(await pollUntil(() => delivered.includes('JOB_DRIVER_EXITED'), 5000, 5)).toBe(true);
    // RUNNING, not sent yet when EXITED came, was replaced by it: the head gets the latest, in order.
    expect(received).toEqual(['JOB_DRIVER_PREPARING', 'JOB_DRIVER_EXITED']);
    expect(delivered).toEqual(['JOB_DRIVER_PREPARING', 'JOB_DRIVER_EXITED']);
  });

  it('drops a state the head refuses for another reason than being unreachable', async () => {
    const delivered: string[] = [];
    let calls = 0;
    const queue = new ReportQueue(async () => {
      calls += 1;
      throw new InvalidRequestError('unknown submission');
    }, { initialMs: 5, maxMs: 20 }, nullLogger, (s) => delivered.push(String(s.phase)));
    queue.push(state('JOB_DRIVER_EXITED'));
    expect(await pollUntil(() => delivered.length === 1, 2000, 5)).toBe(true);
    expect(calls).toBe(1);
  });

  it('stops retrying once closed', async () => {
    let calls = 0;
    let closedAt = -1;
    const queue = new ReportQueue(async () => {
      calls += 1;
      if (closedAt >= 0) throw new Error(`sent after close (call ${calls})`);
      throw new ClusterUnreachableError('down');
    }, { initialMs: 5, maxMs: 5 }, nullLogger, () => undefined);
    queue.push(state('JOB_DRIVER_RUNNING'));
    await pollUntil(() => calls >= 2, 2000, 2);
    queue.close();
    closedAt = calls;
    queue.push(state('JOB_DRIVER_EXITED'));
    // Every retry pause is 5 ms: had the queue gone on, the next attempts would be long due by now.
    await pollUntil(() => calls > closedAt, 200, 5);
    expect(calls).toBe(closedAt);
  });
});
