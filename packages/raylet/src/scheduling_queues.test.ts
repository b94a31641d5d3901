/** SchedulingQueues on its own: classes, turn order, tasks put back, demands. */
import { describe, expect, it } from 'vitest';
import type { ResourceMap } from '@rayts/common';
import { SchedulingQueues } from './scheduling_queues.js';
import type { TaskSpec } from './protocol.js';

const task = (taskId: string, fnHash: string, resources: ResourceMap = { CPU: 1 }): { spec: TaskSpec } => ({
  spec: {
    taskId, jobId: 'job1', attempt: 0, name: taskId, fnHash, args: [], returnId: `${taskId}-ret`, resources,
    strategy: { kind: 'DEFAULT' }, owner: { nodeId: 'node', clientId: 'driver-1' }, depth: 0, driverNodeId: 'node',
  },
});
const ids = (tasks: { spec: TaskSpec }[]) => tasks.map((t) => t.spec.taskId);

describe('SchedulingQueues', () => {
  it('classes() can be drained in place: each class emptied by shift leaves, the rest are still visited', () => {
    const queues = new SchedulingQueues();
    for (const t of [task('a1', 'f'), task('a2', 'f'), task('b1', 'g'), task('c1', 'h')]) queues.push(t);
    const order: string[] = [];
    for (const q of queues.classes()) for (let t = queues.shift(q); t; t = q.tasks.length > 0 ? queues.shift(q) : undefined) order.push(t.spec.taskId);
    expect(order).toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(queues.length).toBe(0);
    expect(queues.inTurnOrder()).toEqual([]);
  });

  it('one queue per shape and function; a served class goes to the back of the turn order', () => {
    const queues = new SchedulingQueues();
    for (const t of [task('a1', 'f'), task('a2', 'f'), task('b1', 'g'), task('c1', 'f', { CPU: 2 })]) queues.push(t);
    expect(queues.length).toBe(4);
    const [a, b, c] = queues.inTurnOrder();
    expect([a.key, b.key, c.key].map((k) => k.split('|')[1])).toEqual(['f', 'g', 'f']);
    expect(queues.shift(a)?.spec.taskId).toBe('a1');
    queues.served(a);
    expect(queues.inTurnOrder().map((q) => q.tasks.peek()?.spec.taskId)).toEqual(['b1', 'c1', 'a2']);
    // Emptied: the class leaves the turn order, and serving it again changes nothing.
    expect(queues.shift(b)?.spec.taskId).toBe('b1');
    queues.served(b);
    expect(queues.inTurnOrder()).toHaveLength(2);
    expect(queues.length).toBe(2);
  });

  it('tasks handed back go to the front of their class in their order; take removes by predicate', () => {
    const queues = new SchedulingQueues();
    queues.push(task('x3', 'f'));
    queues.returnToFront([task('x1', 'f'), task('x2', 'f'), task('y1', 'g')]);
    expect(ids(queues.all())).toEqual(['x1', 'x2', 'x3', 'y1']);
    expect(ids(queues.take((t) => t.spec.taskId.startsWith('x')))).toEqual(['x1', 'x2', 'x3']);
    expect(queues.length).toBe(1);
    expect(queues.inTurnOrder()).toHaveLength(1);
  });

  it('demands count per shape across functions, with the infeasible flag from the caller', () => {
    const queues = new SchedulingQueues();
    for (const t of [task('a', 'f'), task('b', 'f'), task('c', 'g'), task('d', 'f', { GPU: 1 })]) queues.push(t);
    expect(queues.demands((shape) => 'GPU' in shape)).toEqual([
      { shape: { CPU: 1 }, count: 3, kind: 'task', strategy: '', infeasible: false },
      { shape: { GPU: 1 }, count: 1, kind: 'task', strategy: '', infeasible: true },
    ]);
  });
});
