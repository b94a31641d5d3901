import { describe, expect, it } from 'vitest';
import { ForwardedTasks } from './forwarded_tasks.js';
import type { QueuedTask } from './local_scheduler.js';
import type { TaskOutcome } from './protocol.js';

function task(id: string, got: TaskOutcome[]): QueuedTask {
  return { spec: { taskId: id, attempt: 0, returnId: `r${id}` }, jobDir: '', queuedAt: 0, deliver: (o: TaskOutcome) => got.push(o) } as unknown as QueuedTask;
}

describe('ForwardedTasks', () => {
  it('fails the tasks still out on a node that left the view, once; their late answers are dropped', () => {
    const got: TaskOutcome[] = [];
    const f = new ForwardedTasks();
    const a = f.track('nodeB', task('1', got));
    f.track('nodeB', task('2', got));
    const c = f.track('nodeC', task('3', got));
    c({ taskId: '3', attempt: 0, returnId: 'r3', nodeId: 'nodeC' });
    expect(f.nodes()).toEqual(['nodeB']);
    f.nodeGone('nodeB', 'declared dead');
    expect(got.map((o) => [o.taskId, o.failure?.type ?? 'ok'])).toEqual([['3', 'ok'], ['1', 'NODE_DIED'], ['2', 'NODE_DIED']]);
    a({ taskId: '1', attempt: 0, returnId: 'r1', nodeId: 'nodeB' }); // the call answers after all: ignored
    expect(got).toHaveLength(3);
    expect(f.nodes()).toEqual([]);
  });
});
