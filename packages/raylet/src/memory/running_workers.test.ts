/** RunningWorkers: busy task workers and actor workers as the memory monitor's candidates. */
import { describe, expect, it } from 'vitest';
import type { WorkerSlot } from '../local_scheduler.js';
import type { HostedActor } from '../hosted_actors.js';
import type { TaskSpec } from '../protocol.js';
import { RunningWorkers } from './running_workers.js';

function slot(workerId: string, task?: Partial<TaskSpec>, startedAt?: number): WorkerSlot {
  return {
    workerId, pid: 100, blocked: false, send: () => undefined,
    ...(task ? { running: { spec: { taskId: `t_${workerId}`, name: `f_${workerId}`, ...task } as TaskSpec, jobDir: '', deliver: () => undefined, queuedAt: 0 }, startedAt } : {}),
  };
}

describe('RunningWorkers', () => {
  it('lists workers running a task (retriable unless the spec says not) and actors (retriable with restarts left); idle workers are not candidates', () => {
    const actor = { actorId: 'a1', workerId: 'wa', pid: 7, className: 'Counter', restartable: false, startedAt: 3 } as HostedActor;
    const view = new RunningWorkers({
      scheduler: { workerList: () => [slot('idle'), slot('w1', {}, 1), slot('w2', { retriable: false }, 2)] },
      actors: { list: () => [actor] },
      pool: { get: (id) => (id === 'w1' ? {} : undefined) },
    });
    expect(view.running()).toEqual([
      { workerId: 'w1', pid: 100, startedAtMs: 1, retriable: true, taskName: 'f_w1', taskId: 't_w1' },
      { workerId: 'w2', pid: 100, startedAtMs: 2, retriable: false, taskName: 'f_w2', taskId: 't_w2' },
      { workerId: 'wa', pid: 7, startedAtMs: 3, retriable: false, taskName: 'Counter', taskId: '', actorId: 'a1' },
    ]);
    expect(view.isAlive('w1')).toBe(true);
    expect(view.isAlive('w2')).toBe(false);
  });
});
