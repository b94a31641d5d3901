import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { RpcError, encodeTaskEvents, type AttemptEvents } from '@rayts/common';
import { parseAddTaskEvents, queryTaskEvents, toTaskAttemptInfo, unknownJobReport } from './task_event_service.js';
import { TaskEventStore } from './task_event_store.js';

const T0 = 1_700_000_000_000;
const task = (n: number) => `${'ab'.repeat(20)}${String(n).padStart(16, '0')}`;

function attempt(n: number, extra: Partial<AttemptEvents> = {}): AttemptEvents {
  return {
    taskId: task(n), attemptNumber: 0, jobId: '00000001',
    info: { name: 'f', funcOrClassName: 'f', type: 'NORMAL_TASK', parentTaskId: '', actorId: '', placementGroupId: '', requiredResources: { CPU: 1 } },
    transitions: [{ state: 'PENDING_ARGS_AVAIL', timeMs: T0 }], nodeId: 'c'.repeat(56), workerId: 'w1', workerPid: 9, errorType: '', errorMessage: '', ...extra,
  };
}

/** The INVALID_ARGUMENT message a request with these attempts gets. */
function refusal(attempts: AttemptEvents[], numDropped = 0): string {
  try {
    parseAddTaskEvents({ events: encodeTaskEvents(attempts), numDropped });
  } catch (err) {
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(grpc.status.INVALID_ARGUMENT);
    return (err as Error).message;
  }
  throw new Error('the request was accepted');
}

describe('AddTaskEvents validation', () => {
  it('accepts a valid batch', () => {
    const { batch, numDropped } = parseAddTaskEvents({ events: encodeTaskEvents([attempt(1), attempt(2)]), numDropped: 3 });
    expect([batch.taskId(0), batch.taskId(1)]).toEqual([task(1), task(2)]);
    expect(numDropped).toBe(3);
  });

  it('refuses garbage with a message naming the attempt and the field', () => {
    expect(refusal([attempt(1), attempt(2, { taskId: 'xyz' })])).toBe('events[1].task_id must be 56 hex characters, got "xyz"');
    expect(refusal([attempt(1, { jobId: 'JOB!' })])).toMatch(/^events\[0\]\.job_id must be 1\.\.64 lowercase hex characters/);
    expect(refusal([attempt(1, { transitions: [{ state: 'NIL', timeMs: T0 }] })])).toMatch(/transitions\[0\]\.state must be one of/);
    expect(refusal([attempt(1, { transitions: [{ state: 'RUNNING', timeMs: -5 }] })])).toMatch(/transitions\[0\]\.time_ms must be milliseconds since the epoch, got -5/);
    expect(refusal([attempt(1, { transitions: [{ state: 'RUNNING', timeMs: 1.5 }] })])).toMatch(/time_ms/);
    expect(refusal([attempt(1, { transitions: Array.from({ length: 17 }, () => ({ state: 'RUNNING' as const, timeMs: T0 })) })])).toMatch(/17 state transitions; at most 16/);
    expect(refusal([attempt(1, { nodeId: 'node-1' })])).toMatch(/node_id must be empty or 56 hex characters/);
    expect(refusal([attempt(1, { workerId: '../etc' })])).toMatch(/worker_id must be at most 64 letters/);
    expect(refusal([attempt(1, { errorType: 'lower case' })])).toMatch(/error_type must be an upper-case error type name/);
    expect(refusal([attempt(1, { errorMessage: 'x'.repeat(9000) })])).toMatch(/error_message is 9000 characters; at most 8192/);
    expect(refusal([attempt(1, { log: { stdoutStart: 1.5, stdoutEnd: 2, stderrStart: 0, stderrEnd: 0 } })])).toMatch(/log: offsets must be integers from -1/);
    expect(refusal([attempt(1, { workerId: '', log: { stdoutStart: 1, stdoutEnd: 2, stderrStart: 0, stderrEnd: 0 } })])).toMatch(/log offsets need the worker/);
    const info = attempt(1).info!;
    expect(refusal([attempt(1, { info: { ...info, parentTaskId: 'p' } })])).toMatch(/^events\[0\]\.info\.parent_task_id must be empty or 56 hex characters/);
    expect(refusal([attempt(1, { info: { ...info, actorId: 'a'.repeat(31) } })])).toMatch(/info\.actor_id must be empty or 32 hex characters/);
    expect(refusal([attempt(1, { info: { ...info, requiredResources: { CPU: -1 } } })])).toMatch(/required_resources: CPU=-1 is not a non-negative amount/);
    expect(refusal([attempt(1, { info: { ...info, name: 'n'.repeat(600) } })])).toMatch(/name and func_or_class_name are at most 512 characters/);
  });

  it('refuses what is not in the format, and a dropped count that is not a count', () => {
    expect(() => parseAddTaskEvents({ events: Buffer.from('not task events'), numDropped: 0 })).toThrow(/events are not in the task-event format/);
    expect(refusal([attempt(1)], -1)).toMatch(/num_dropped must be a non-negative integer/);
  });

  it('refuses more than 10,000 attempts in one call', () => {
    expect(refusal(Array.from({ length: 10_001 }, (_, i) => attempt(i)))).toMatch(/at most 10000 attempts per call, got 10001; send them in several calls/);
  });

  it('a refused batch leaves the store untouched', async () => {
    const store = new TaskEventStore({ maxStored: 10 });
    const events = encodeTaskEvents([attempt(1), attempt(2, { taskId: 'bad' })]);
    expect(() => store.addBatch(parseAddTaskEvents({ events, numDropped: 0 }).batch)).toThrow(RpcError);
    expect(store.stats().stored).toBe(0);
  });
});

describe('AddTaskEvents out of protocol order', () => {
  it('names the first attempt of a job the head never registered, asking about each job once', () => {
    const asked: string[] = [];
    const jobs = { get: (id: string) => { asked.push(id); return id === '00000001' ? {} : undefined; } };
    const { batch } = parseAddTaskEvents({ events: encodeTaskEvents([attempt(1), attempt(2), attempt(3, { jobId: '0000000f' })]), numDropped: 0 });
    expect(unknownJobReport(batch, jobs)).toEqual({ index: 2, jobId: '0000000f' });
    expect(asked).toEqual(['00000001', '0000000f']);
    const known = parseAddTaskEvents({ events: encodeTaskEvents([attempt(1), attempt(2)]), numDropped: 0 }).batch;
    expect(unknownJobReport(known, jobs)).toBeUndefined();
  });
});

describe('GetTaskEvents', () => {
  it('filters by job and task, keeps the newest within the limit, and says how many matched', () => {
    const store = new TaskEventStore({ maxStored: 100 });
    store.add([attempt(1), attempt(2, { jobId: '00000002' }), attempt(3), attempt(3, { attemptNumber: 1 }), attempt(4)]);
    const all = queryTaskEvents(store, { jobId: '', taskId: '', limit: 0 });
    expect(all.total).toBe(5);
    const job1 = queryTaskEvents(store, { jobId: '00000001', taskId: '', limit: 2 });
    expect([job1.total, job1.attempts.map((a) => [a.taskId, a.attemptNumber])]).toEqual([4, [[task(3), 1], [task(4), 0]]]);
    const one = queryTaskEvents(store, { jobId: '', taskId: task(3), limit: 0 });
    expect(one.attempts.map((a) => a.attemptNumber)).toEqual([0, 1]);
    expect(() => queryTaskEvents(store, { jobId: 'zz', taskId: '', limit: 0 })).toThrow(/job_id must be empty/);
    expect(() => queryTaskEvents(store, { jobId: '', taskId: '', limit: 100_001 })).toThrow(/limit must be at most 100000/);
  });

  it('replies with every field of an attempt; unknown ones as zero values', () => {
    const store = new TaskEventStore({ maxStored: 10 });
    store.add([attempt(1)]);
    const info = toTaskAttemptInfo(store.attemptsOf(task(1))[0]!);
    expect(info).toMatchObject({ taskId: task(1), state: 'PENDING_ARGS_AVAIL', type: 'NORMAL_TASK', workerPid: 9, startTimeMs: 0, endTimeMs: 0, log: null, requiredResources: { CPU: 1 } });
  });
});
