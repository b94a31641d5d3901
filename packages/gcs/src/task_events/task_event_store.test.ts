import { describe, expect, it } from 'vitest';
import type { AttemptEvents, TaskInfo, TaskState } from '@rayts/common';
import { TaskEventStore } from './task_event_store.js';

const T0 = 1_700_000_000_000;
const task = (n: number) => `${'ab'.repeat(20)}${String(n).padStart(16, '0')}`;
const NODE_A = 'a'.repeat(56);
const NODE_B = 'b'.repeat(56);
const INFO: TaskInfo = {
  name: 'square', funcOrClassName: 'square', type: 'NORMAL_TASK', parentTaskId: 'd'.repeat(56), actorId: '', placementGroupId: '', requiredResources: { CPU: 1 },
};

/** A report about attempt `attempt` of task `n`: states at T0 + the given offsets (ms). */
function report(n: number, states: [TaskState, number][], extra: Partial<AttemptEvents> = {}): AttemptEvents {
  return {
    taskId: task(n), attemptNumber: 0, jobId: '00000001', transitions: states.map(([state, dt]) => ({ state, timeMs: T0 + dt })),
    nodeId: '', workerId: '', workerPid: 0, errorType: '', errorMessage: '', ...extra,
  };
}

const owner = (n: number, extra: Partial<AttemptEvents> = {}) => report(n, [['PENDING_ARGS_AVAIL', 0], ['PENDING_NODE_ASSIGNMENT', 1]], { info: INFO, ...extra });
const finished = (n: number, extra: Partial<AttemptEvents> = {}) => report(n, [['FINISHED', 9]], extra);

describe('TaskEventStore', () => {
  it('merges the owner\'s and the worker\'s reports into one attempt, in time order, with where it ran and its output', () => {
    const store = new TaskEventStore({ maxStored: 10 });
    store.add([owner(1)]);
    store.add([report(1, [['SUBMITTED_TO_WORKER', 2], ['RUNNING', 3]], { nodeId: NODE_A, workerId: 'w1', workerPid: 77, log: { stdoutStart: 10, stdoutEnd: -1, stderrStart: 0, stderrEnd: -1 } })]);
    expect(store.attemptsOf(task(1))[0]!.state).toBe('RUNNING');
    store.add([finished(1, { nodeId: NODE_A, workerId: 'w1', workerPid: 77, log: { stdoutStart: 10, stdoutEnd: 27, stderrStart: 0, stderrEnd: 0 } })]);
    const [a] = store.attemptsOf(task(1));
    expect(a).toEqual({
      taskId: task(1), attemptNumber: 0, name: 'square', funcOrClassName: 'square', type: 'NORMAL_TASK', state: 'FINISHED', jobId: '00000001',
      parentTaskId: 'd'.repeat(56), requiredResources: { CPU: 1 }, nodeId: NODE_A, workerId: 'w1', workerPid: 77,
      stateTransitions: [
        { state: 'PENDING_ARGS_AVAIL', timeMs: T0 }, { state: 'PENDING_NODE_ASSIGNMENT', timeMs: T0 + 1 }, { state: 'SUBMITTED_TO_WORKER', timeMs: T0 + 2 },
        { state: 'RUNNING', timeMs: T0 + 3 }, { state: 'FINISHED', timeMs: T0 + 9 },
      ],
      creationTimeMs: T0, startTimeMs: T0 + 3, endTimeMs: T0 + 9,
      log: { nodeId: NODE_A, stdoutFile: 'worker-w1-77.out', stderrFile: 'worker-w1-77.err', stdoutStart: 10, stdoutEnd: 27, stderrStart: 0, stderrEnd: 0 },
    });
    expect(store.stats()).toEqual({ stored: 1, droppedAtWorkers: 0, evictedAtGcs: 0 });
  });

  it('the state is the furthest reached whatever the order reports arrive in; a state keeps its first time', () => {
    const store = new TaskEventStore({ maxStored: 10 });
    store.add([report(1, [['RUNNING', 5]])]);
    store.add([owner(1)]);
    store.add([report(1, [['RUNNING', 3]])]);
    const [a] = store.attemptsOf(task(1));
    expect(a!.state).toBe('RUNNING');
    expect(a!.stateTransitions.map((t) => [t.state, t.timeMs - T0])).toEqual([['PENDING_ARGS_AVAIL', 0], ['PENDING_NODE_ASSIGNMENT', 1], ['RUNNING', 3]]);
  });

  it('of FINISHED and FAILED the later counts, FAILED on a tie; the error shows only with FAILED', () => {
    const store = new TaskEventStore({ maxStored: 10 });
    store.add([report(1, [['FINISHED', 5]]), report(1, [['FAILED', 7]], { errorType: 'TASK_CANCELLED', errorMessage: 'cancelled' })]);
    store.add([report(2, [['FAILED', 7]], { errorType: 'WORKER_DIED', errorMessage: 'x' }), report(2, [['FINISHED', 9]])]);
    store.add([report(3, [['FINISHED', 5], ['FAILED', 5]], { errorType: 'TASK_EXECUTION_EXCEPTION', errorMessage: 'boom' })]);
    const [one, two, three] = [1, 2, 3].map((n) => store.attemptsOf(task(n))[0]!);
    expect([one.state, one.errorType, one.endTimeMs]).toEqual(['FAILED', 'TASK_CANCELLED', T0 + 7]);
    expect([two.state, two.errorType, two.endTimeMs]).toEqual(['FINISHED', undefined, T0 + 9]);
    expect([three.state, three.errorMessage]).toEqual(['FAILED', 'boom']);
  });

  it('attempts of one task are separate records; a later attempt reported without what the task is takes it from another', () => {
    const store = new TaskEventStore({ maxStored: 10 });
    store.add([owner(1), report(1, [['FAILED', 4]], { errorType: 'WORKER_DIED', errorMessage: 'SIGKILL', nodeId: NODE_A, workerId: 'w1', workerPid: 5 })]);
    store.add([report(1, [['RUNNING', 6], ['FINISHED', 8]], { attemptNumber: 1, nodeId: NODE_B, workerId: 'w2', workerPid: 6 })]);
    const attempts = store.attemptsOf(task(1));
    expect(attempts.map((a) => [a.attemptNumber, a.state, a.errorType ?? '', a.name, a.nodeId, a.workerPid])).toEqual([
      [0, 'FAILED', 'WORKER_DIED', 'square', NODE_A, 5],
      [1, 'FINISHED', '', 'square', NODE_B, 6],
    ]);
    expect([...store.list()].length).toBe(2);
  });

  it('an actor\'s host and its creator both say what the creation is: empty fields do not erase the other\'s', () => {
    const store = new TaskEventStore({ maxStored: 10 });
    const creation: TaskInfo = { ...INFO, type: 'ACTOR_CREATION_TASK', name: 'Counter.constructor', funcOrClassName: 'Counter.constructor', actorId: 'f'.repeat(32) };
    store.add([report(1, [['SUBMITTED_TO_WORKER', 2]], { info: { ...creation, parentTaskId: '', requiredResources: {} } })]);
    store.add([report(1, [['PENDING_ARGS_AVAIL', 0]], { info: creation })]);
    const [a] = store.attemptsOf(task(1));
    expect([a!.type, a!.parentTaskId, a!.actorId, a!.requiredResources]).toEqual(['ACTOR_CREATION_TASK', 'd'.repeat(56), 'f'.repeat(32), { CPU: 1 }]);
  });

  it('beyond its bound it evicts the attempt that finished first, then the oldest of any kind, and counts', () => {
    const store = new TaskEventStore({ maxStored: 3 });
    store.add([owner(1), owner(2), owner(3)]);
    store.add([finished(3), finished(2)]);
    store.add([owner(4)]); // evicts 3: the first to finish
    expect([...store.list()].map((a) => a.taskId)).toEqual([task(1), task(2), task(4)]);
    store.add([owner(5)]); // evicts 2
    store.add([owner(6)]); // none finished: evicts the oldest, 1
    expect([...store.list()].map((a) => a.taskId)).toEqual([task(4), task(5), task(6)]);
    expect(store.stats()).toEqual({ stored: 3, droppedAtWorkers: 0, evictedAtGcs: 3 });
    // A report about an evicted attempt makes a new record of it, finished: with the others in
    // progress, it is the one that goes. Dropped counts add up.
    store.add([finished(1)], 4);
    expect(store.attemptsOf(task(1))).toEqual([]);
    expect([...store.list()].map((a) => a.taskId)).toEqual([task(4), task(5), task(6)]);
    expect(store.stats()).toEqual({ stored: 3, droppedAtWorkers: 4, evictedAtGcs: 4 });
  });

  it('a finished job\'s attempts still in progress fail (WORKER_DIED); a real end reported later replaces that', () => {
    const store = new TaskEventStore({ maxStored: 10 }, () => T0 + 100);
    store.add([owner(1), owner(2), owner(3, { jobId: '00000002' }), owner(4), finished(4)]);
    expect(store.markJobFinished('00000001')).toBe(2);
    const [one, two, three, four] = [1, 2, 3, 4].map((n) => store.attemptsOf(task(n))[0]!);
    expect([one.state, one.errorType, one.endTimeMs]).toEqual(['FAILED', 'WORKER_DIED', T0 + 100]);
    expect(one.errorMessage).toMatch(/job 00000001 finished/);
    expect(two.state).toBe('FAILED');
    expect(three.state).toBe('PENDING_NODE_ASSIGNMENT');
    expect(four.state).toBe('FINISHED');
    // The worker's end was on its way: it wins over the head's conclusion.
    store.add([finished(1)]);
    const late = store.attemptsOf(task(1))[0]!;
    expect([late.state, late.errorType, late.endTimeMs]).toEqual(['FINISHED', undefined, T0 + 9]);
    // A late non-final report does not undo the conclusion.
    store.add([report(2, [['RUNNING', 3]])]);
    expect(store.attemptsOf(task(2))[0]!.state).toBe('FAILED');
  });

  it('a dead node\'s attempts in progress fail with NODE_DIED; others are left alone', () => {
    const store = new TaskEventStore({ maxStored: 10 }, () => T0 + 50);
    store.add([
      report(1, [['RUNNING', 3]], { nodeId: NODE_A }), report(2, [['RUNNING', 3]], { nodeId: NODE_B }),
      report(3, [['RUNNING', 3], ['FINISHED', 4]], { nodeId: NODE_A }), owner(4),
    ]);
    expect(store.markNodeDead(NODE_A, 'health checks failed')).toBe(1);
    const [one, two, three, four] = [1, 2, 3, 4].map((n) => store.attemptsOf(task(n))[0]!);
    expect([one.state, one.errorType, one.errorMessage]).toEqual(['FAILED', 'NODE_DIED', `the node ${NODE_A} running this attempt died (health checks failed)`]);
    expect([two.state, three.state, four.state]).toEqual(['RUNNING', 'FINISHED', 'PENDING_NODE_ASSIGNMENT']);
  });

  it('keeps its bound under churn: slots are reused, counters stay exact', () => {
    const store = new TaskEventStore({ maxStored: 100 });
    for (let round = 0; round < 50; round++) {
      store.add(Array.from({ length: 30 }, (_, i) => owner(round * 30 + i)));
      store.add(Array.from({ length: 30 }, (_, i) => finished(round * 30 + i)));
    }
    const listed = [...store.list()];
    expect(listed.length).toBe(100);
    expect(listed.every((a) => a.state === 'FINISHED' && a.name === 'square')).toBe(true);
    expect(listed.map((a) => a.taskId)).toEqual(Array.from({ length: 100 }, (_, i) => task(1400 + i)));
    expect(store.stats()).toEqual({ stored: 100, droppedAtWorkers: 0, evictedAtGcs: 1400 });
  });

  it('finds every stored attempt by its task after random churn of tasks with several attempts (index removals included)', () => {
    let seed = 11;
    const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    const store = new TaskEventStore({ maxStored: 50 });
    for (let i = 0; i < 3000; i++) {
      // 200 tasks, up to 3 attempts each, in progress or finished: evictions take both kinds.
      const n = random(200);
      const attemptNumber = random(3);
      store.add([random(2) ? owner(n, { attemptNumber }) : finished(n, { attemptNumber })]);
    }
    const listed = [...store.list()];
    expect(listed.length).toBe(50);
    const byTask = new Map<string, number[]>();
    for (const a of listed) byTask.set(a.taskId, [...(byTask.get(a.taskId) ?? []), a.attemptNumber]);
    for (let n = 0; n < 200; n++) {
      const want = (byTask.get(task(n)) ?? []).sort();
      expect(store.attemptsOf(task(n)).map((a) => a.attemptNumber), `task ${n}`).toEqual(want);
    }
    expect(store.attemptsOf('not a task id')).toEqual([]);
    expect(store.stats().stored).toBe(50);
  });

  it('refuses a bound below one', () => {
    expect(() => new TaskEventStore({ maxStored: 0 })).toThrow(/RAYTS_TASK_EVENTS_MAX_STORED=0 is out of range/);
  });
});
