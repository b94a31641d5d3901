import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidRequestError, decodeTaskEvents, type AddTaskEventsRequest, type AttemptEvents } from '@rayts/common';
import { TaskEventBuffer, type TaskEventBufferConfig } from './task_event_buffer.js';
import { taskInfo, type RunningAttempt } from './event_report.js';
import { packRun } from './protocol/messages.js';

const NODE = 'a'.repeat(56);
const task = (n: number) => `${'ab'.repeat(20)}${String(n).padStart(16, '0')}`;
const INFO = taskInfo('NORMAL_TASK', 'square', 'square', 'd'.repeat(56), { CPU: 1 });

/** A sender that records what it gets; `fail` makes the next calls throw that error. */
class FakeSender {
  readonly calls: { attempts: AttemptEvents[]; numDropped: number }[] = [];
  fail?: Error;
  hang = false;

  async addTaskEvents(request: AddTaskEventsRequest): Promise<void> {
    if (this.hang) return new Promise(() => undefined);
    if (this.fail) throw this.fail;
    this.calls.push({ attempts: decodeTaskEvents(request.events as Buffer), numDropped: Number(request.numDropped ?? 0) });
  }

  get attempts(): AttemptEvents[] {
    return this.calls.flatMap((c) => c.attempts);
  }
}

const buffers: TaskEventBuffer[] = [];
function setup(config: Partial<TaskEventBufferConfig> = {}, logsToFiles = true) {
  const sender = new FakeSender();
  const buffer = new TaskEventBuffer(sender, {
    taskEventsEnabled: true, taskEventsReportIntervalMs: 60_000, taskEventsBufferMaxEvents: 1000, taskEventsFlushTimeoutMs: 200, ...config,
  }, { nodeId: NODE, workerId: 'w-self', pid: 321, logsToFiles });
  buffers.push(buffer);
  return { sender, buffer };
}
afterEach(() => {
  for (const b of buffers.splice(0)) b.stop();
  vi.useRealTimers();
});

const states = (a: AttemptEvents) => a.transitions.map((t) => t.state);

describe('TaskEventBuffer', () => {
  it('reports an owner\'s attempt as one record: what it is, its states, and what the outcome says of its run', async () => {
    const { sender, buffer } = setup();
    let h = buffer.submitted(task(1), 0, '00000001', INFO);
    h = buffer.sentToRaylet(task(1), 0, '00000001', h);
    buffer.outcome('00000001', {
      taskId: task(1), attempt: 0, returnId: 'r', nodeId: NODE, value: { kind: 'inline', data: new Uint8Array() },
      run: packRun({ workerId: 'w7', workerPid: 77, receivedMs: 1000, startMs: 1001, endMs: 1005, stdoutStart: 10, stdoutEnd: 27, stderrStart: 0, stderrEnd: 0 }),
    }, h);
    await buffer.flush();
    expect(sender.calls).toHaveLength(1);
    const [a] = sender.attempts;
    expect(a).toMatchObject({ taskId: task(1), attemptNumber: 0, jobId: '00000001', info: INFO, nodeId: NODE, workerId: 'w7', workerPid: 77, errorType: '' });
    expect(states(a!)).toEqual(['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'SUBMITTED_TO_WORKER', 'RUNNING', 'FINISHED']);
    expect(a!.transitions.slice(2).map((t) => t.timeMs)).toEqual([1000, 1001, 1005]);
    expect(a!.log).toEqual({ stdoutStart: 10, stdoutEnd: 27, stderrStart: 0, stderrEnd: 0 });
    expect(buffer.stats).toEqual({ pending: 0, dropped: 0 });
  });

  it('an owner\'s hint finds the attempt\'s record; without a valid one an event opens a record of its own (the head merges them)', async () => {
    const { sender, buffer } = setup();
    const h1 = buffer.submitted(task(1), 0, '00000001', INFO);
    const h2 = buffer.submitted(task(2), 0, '00000001', INFO);
    expect(h1).toBeGreaterThanOrEqual(0);
    buffer.sentToRaylet(task(1), 0, '00000001', h2); // task 2's hint for task 1: a record of its own
    const before = buffer.sentToRaylet(task(2), 0, '00000001', h2);
    await buffer.flush();
    buffer.outcome('00000001', { taskId: task(2), attempt: 0, returnId: 'r', nodeId: NODE, value: { kind: 'inline', data: new Uint8Array() } }, before); // stale after the report
    await buffer.flush();
    expect(sender.attempts.map((a) => [a.taskId, states(a)])).toEqual([
      [task(1), ['PENDING_ARGS_AVAIL']],
      [task(2), ['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT']],
      [task(1), ['PENDING_NODE_ASSIGNMENT']],
      [task(2), ['FINISHED']],
    ]);
  });

  it('a retry is a new attempt; failures carry Ray\'s error type and the message', async () => {
    const { sender, buffer } = setup();
    let h = buffer.submitted(task(1), 0, '00000001', INFO);
    buffer.outcome('00000001', { taskId: task(1), attempt: 0, returnId: 'r', nodeId: NODE, failure: { type: 'WORKER_DIED', message: 'worker process (pid 77) exited with code 1' }, run: packRun({ workerId: 'w7', workerPid: 77 }) }, h);
    h = buffer.submitted(task(1), 1, '00000001', INFO);
    buffer.outcome('00000001', { taskId: task(1), attempt: 1, returnId: 'r', nodeId: NODE, failure: { type: 'APPLICATION', message: 'x must be >= 0', errorName: 'RangeError' } }, h);
    buffer.failed(task(2), 0, '00000001', { errorType: 'TASK_CANCELLED', message: 'cancelled' });
    await buffer.flush();
    expect(sender.attempts.map((a) => [a.taskId, a.attemptNumber, states(a).at(-1), a.errorType, a.errorMessage, a.workerPid])).toEqual([
      [task(1), 0, 'FAILED', 'WORKER_DIED', 'worker process (pid 77) exited with code 1', 77],
      [task(1), 1, 'FAILED', 'TASK_EXECUTION_EXCEPTION', 'RangeError: x must be >= 0', 0],
      [task(2), 0, 'FAILED', 'TASK_CANCELLED', 'cancelled', 0],
    ]);
  });

  it('beyond its bound it drops the oldest attempts\' events and reports how many with the next report', async () => {
    const { sender, buffer } = setup({ taskEventsBufferMaxEvents: 5 });
    for (let n = 1; n <= 4; n++) buffer.sentToRaylet(task(n), 0, '00000001', buffer.submitted(task(n), 0, '00000001', INFO));
    // 8 events for a bound of 5: tasks 1 and 2 (2 events each) went.
    expect(buffer.stats).toEqual({ pending: 4, dropped: 4 });
    await buffer.flush();
    expect(sender.calls).toEqual([{ attempts: expect.any(Array), numDropped: 4 }]);
    expect(sender.attempts.map((a) => a.taskId)).toEqual([task(3), task(4)]);
    await buffer.flush();
    expect(buffer.stats.dropped).toBe(0);
  });

  it('a report that fails is kept and sent with the next one; one the head refuses is dropped and counted', async () => {
    const { sender, buffer } = setup();
    buffer.submitted(task(1), 0, '00000001', INFO);
    sender.fail = new Error('UNAVAILABLE');
    await buffer.flush();
    expect(sender.calls).toHaveLength(0);
    expect(buffer.stats.pending).toBe(1);
    sender.fail = undefined;
    buffer.submitted(task(2), 0, '00000001', INFO);
    await buffer.flush();
    expect(sender.attempts.map((a) => a.taskId)).toEqual([task(1), task(2)]);

    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    buffer.submitted(task(3), 0, '00000001', INFO);
    sender.fail = new InvalidRequestError('events[0].task_id must be 56 hex characters');
    await buffer.flush();
    expect(buffer.stats).toEqual({ pending: 0, dropped: 1 });
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/the head refused task events \(events\[0\]\.task_id must be 56 hex characters\)/);
    stderr.mockRestore();
    sender.fail = undefined;
    await buffer.flush();
    expect(sender.calls.at(-1)).toEqual({ attempts: [], numDropped: 1 });
  });

  it('close() sends what is left, and waits no longer than taskEventsFlushTimeoutMs for a head that does not answer', async () => {
    const { sender, buffer } = setup();
    buffer.submitted(task(1), 0, '00000001', INFO);
    await buffer.close();
    expect(sender.attempts.map((a) => a.taskId)).toEqual([task(1)]);

    const hung = setup({ taskEventsFlushTimeoutMs: 50 });
    hung.sender.hang = true;
    hung.buffer.submitted(task(2), 0, '00000001', INFO);
    const started = Date.now();
    await hung.buffer.close();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports on its interval without being asked', async () => {
    vi.useFakeTimers();
    const { sender, buffer } = setup({ taskEventsReportIntervalMs: 1000 });
    buffer.submitted(task(1), 0, '00000001', INFO);
    await vi.advanceTimersByTimeAsync(999);
    expect(sender.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sender.attempts.map((a) => a.taskId)).toEqual([task(1)]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sender.calls).toHaveLength(1); // nothing new: nothing sent
  });

  it('an attempt running here is reported while it runs, once per state, and not after its outcome left', async () => {
    const { sender, buffer } = setup();
    const running = (n: number, receivedMs: number): RunningAttempt => ({ workerId: 'w-self', workerPid: 321, receivedMs, taskId: task(n), attempt: 0, jobId: '00000001', reported: 0 });
    const run = running(1, 2000);
    buffer.track(run);
    await buffer.flush();
    run.startMs = 2001;
    run.stdoutStart = 40;
    run.stderrStart = 3;
    await buffer.flush();
    await buffer.flush();
    buffer.untrack(run);
    const second = running(2, 2005);
    buffer.track(second);
    buffer.untrack(second);
    await buffer.flush();
    expect(sender.attempts.map((a) => [a.taskId, states(a), a.workerId, a.workerPid, a.log])).toEqual([
      [task(1), ['SUBMITTED_TO_WORKER'], '', 0, undefined],
      [task(1), ['RUNNING'], 'w-self', 321, { stdoutStart: 40, stdoutEnd: -1, stderrStart: 3, stderrEnd: -1 }],
    ]);
  });

  it('what the process runs and reports itself (an actor\'s creation) carries this node, worker and its log offsets', async () => {
    const { sender, buffer } = setup();
    const creation = taskInfo('ACTOR_CREATION_TASK', 'Counter.constructor', 'Counter.constructor', '', {}, 'f'.repeat(32));
    buffer.executing(task(1), 0, '00000001', 'SUBMITTED_TO_WORKER', 3000, -1, -1, creation);
    buffer.executing(task(1), 0, '00000001', 'RUNNING', 3001, 100, 20);
    buffer.ended(task(1), 0, '00000001', 'FAILED', 3002, 150, 20, { errorType: 'TASK_EXECUTION_EXCEPTION', message: 'Error: no' });
    await buffer.flush();
    expect(sender.attempts).toEqual([{
      taskId: task(1), attemptNumber: 0, jobId: '00000001', info: creation, nodeId: NODE, workerId: 'w-self', workerPid: 321,
      transitions: [{ state: 'SUBMITTED_TO_WORKER', timeMs: 3000 }, { state: 'RUNNING', timeMs: 3001 }, { state: 'FAILED', timeMs: 3002 }],
      errorType: 'TASK_EXECUTION_EXCEPTION', errorMessage: 'Error: no', log: { stdoutStart: 100, stdoutEnd: 150, stderrStart: 20, stderrEnd: 20 },
    }]);
  });

  it('a worker reports what its tasks submitted soon after an attempt ends, not at the next interval', async () => {
    vi.useFakeTimers();
    const { sender, buffer } = setup({ taskEventsReportIntervalMs: 10_000 });
    buffer.attemptEnded(); // nothing owned: nothing scheduled
    await vi.advanceTimersByTimeAsync(1000);
    expect(sender.calls).toHaveLength(0);
    buffer.submitted(task(1), 0, '00000001', INFO);
    buffer.attemptEnded();
    await vi.advanceTimersByTimeAsync(0);
    expect(sender.attempts.map((a) => a.taskId)).toEqual([task(1)]);
    // The next one waits for interval / 20 after the last report.
    buffer.submitted(task(2), 0, '00000001', INFO);
    buffer.attemptEnded();
    await vi.advanceTimersByTimeAsync(499);
    expect(sender.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sender.calls).toHaveLength(2);
  });

  it('splits a large report into calls of at most 2,000 attempts', async () => {
    const { sender, buffer } = setup({ taskEventsBufferMaxEvents: 10_000 });
    for (let n = 0; n < 4500; n++) buffer.submitted(task(n), 0, '00000001', INFO);
    await buffer.flush();
    expect(sender.calls.map((c) => c.attempts.length)).toEqual([2000, 2000, 500]);
    expect(sender.attempts.map((a) => a.taskId)).toEqual(Array.from({ length: 4500 }, (_, n) => task(n)));
  });

  it('encodes an owner\'s attempt when its outcome is in, freeing its record: the attempts in flight keep their records, finished ones beyond the bound go, counted', async () => {
    // A bound of 40 events (and records): 3 attempts in flight hold 6; 50 finished ones (2 events each) pass through.
    const { sender, buffer } = setup({ taskEventsBufferMaxEvents: 40 });
    const hints = [100, 101, 102].map((n) => buffer.sentToRaylet(task(n), 0, '00000001', buffer.submitted(task(n), 0, '00000001', INFO)));
    for (let n = 0; n < 50; n++) {
      const h = buffer.submitted(task(n), 0, '00000001', INFO);
      buffer.outcome('00000001', { taskId: task(n), attempt: 0, returnId: 'r', nodeId: NODE, value: { kind: 'inline', data: new Uint8Array() } }, h);
    }
    // The table holds at most the bound, the report being built less, and of the sealed ones the newest stays.
    expect(buffer.stats.pending).toBeLessThanOrEqual(3 * 40);
    // The records in flight were moved to make room (their hints are stale): an outcome with one lands in a record of its own.
    buffer.outcome('00000001', { taskId: task(100), attempt: 0, returnId: 'r', nodeId: NODE, value: { kind: 'inline', data: new Uint8Array() } }, hints[0]);
    await buffer.flush();
    const byTask = (n: number) => sender.attempts.filter((a) => a.taskId === task(n)).map(states);
    expect(byTask(100)).toEqual([['FINISHED'], ['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT']]);
    expect(byTask(101)).toEqual([['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT']]);
    // Encoded reports of 20 attempts (40 events): beyond the bound the oldest went, the newest finished are reported whole.
    const finished = sender.attempts.filter((a) => a.taskId < task(100));
    expect(finished.map((a) => a.taskId)).toEqual(Array.from({ length: 10 }, (_, i) => task(40 + i)));
    expect(finished.every((a) => states(a).join() === 'PENDING_ARGS_AVAIL,FINISHED')).toBe(true);
    // Every event is either reported or counted as dropped.
    const reported = sender.attempts.reduce((n, a) => n + a.transitions.length, 0);
    expect(reported + sender.calls.reduce((n, c) => n + c.numDropped, 0)).toBe(3 * 2 + 50 * 2 + 1);
    expect(buffer.stats).toEqual({ pending: 0, dropped: 0 });
  });

  it('turned off, it records and sends nothing', async () => {
    const { sender, buffer } = setup({ taskEventsEnabled: false });
    buffer.submitted(task(1), 0, '00000001', INFO);
    buffer.track({ workerId: 'w', workerPid: 1, receivedMs: 1, taskId: task(2), attempt: 0, jobId: '00000001', reported: 0 });
    await buffer.flush();
    await buffer.close();
    expect(sender.calls).toHaveLength(0);
    expect(buffer.stats).toEqual({ pending: 0, dropped: 0 });
  });

  it('refuses a bound or an interval below one', () => {
    expect(() => setup({ taskEventsBufferMaxEvents: 0 })).toThrow(/RAYTS_TASK_EVENTS_BUFFER_MAX_EVENTS=0 is out of range/);
    expect(() => setup({ taskEventsReportIntervalMs: 0 })).toThrow(/RAYTS_TASK_EVENTS_REPORT_INTERVAL_MS=0 is out of range/);
  });
});
