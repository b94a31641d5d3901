import { describe, expect, it } from 'vitest';
import { chromeTrace } from './timeline.js';
import type { TaskAttempt } from '@rayts/gcs';

function attempt(taskId: string, nodeId: string, workerId: string, start: number, end: number | undefined, state: TaskAttempt['state'] = 'FINISHED'): TaskAttempt {
  return {
    taskId, attemptNumber: 0, name: 'f', funcOrClassName: 'f', type: 'NORMAL_TASK', state, jobId: '01', nodeId, workerId, workerPid: 7,
    stateTransitions: [], startTimeMs: start, endTimeMs: end,
  };
}

describe('chromeTrace', () => {
  it('makes one complete event per finished execution (drivers are none), pid per node and tid per worker, with names', () => {
    const trace = chromeTrace([
      attempt('t1', 'n1', 'w1', 1000, 1010),
      attempt('t2', 'n2', 'w9', 1001, 1005, 'FAILED'),
      attempt('t3', 'n1', 'w2', 1002, 1003),
      attempt('t4', 'n1', 'w1', 1010, 1020),
      attempt('t5', 'n1', 'w1', 1030, undefined, 'RUNNING'),
      { ...attempt('driver', 'n1', 'driver-1', 900, 2000), type: 'DRIVER_TASK' },
    ], new Map([['n1', '127.0.0.1'], ['n2', '127.0.0.2']]));
    const complete = trace.filter((e) => e.ph === 'X');
    expect(complete.map((e) => e.args.task_id)).toEqual(['t1', 't2', 't3', 't4']);
    const byTask = Object.fromEntries(complete.map((e) => [e.args.task_id, e]));
    expect(byTask.t1!.pid).toBe(byTask.t3!.pid);
    expect(byTask.t1!.tid).not.toBe(byTask.t3!.tid);
    expect(byTask.t1!.tid).toBe(byTask.t4!.tid);
    expect(byTask.t2!.pid).not.toBe(byTask.t1!.pid);
    expect(byTask.t1).toMatchObject({ ts: 1_000_000, dur: 10_000, name: 'f' });
    expect(byTask.t2!.cname).toBe('terrible');
    const names = trace.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.args.name);
    expect(names).toEqual(['Node 127.0.0.1', 'Node 127.0.0.2']);
    const threads = trace.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args.name);
    expect(threads.sort()).toEqual(['worker:w1', 'worker:w2', 'worker:w9']);
  });
});
