/**
 * The raylet's waiting tasks: one FIFO queue per scheduling class (Ray's: resource shape and
 * function), kept in turn order. A class that was just served goes to the back, so a backlog of one
 * function never holds back the first task of another that needs the same resources (issue 16: after
 * a head restart a new function's task waited 28 s behind 400 queued tasks of the same shape).
 */
import { Fifo, type ResourceMap } from '@rayts/common';
import type { ResourceDemand, TaskSpec } from './protocol.js';
import { shapeKey } from './resource_accounting.js';

/** A task's scheduling class: its resource shape and its function. */
function schedulingClass(spec: TaskSpec): string {
  return `${shapeKey(spec.resources)}|${spec.fnHash}`;
}

/** One class's queue: never empty while it is listed. */
export interface ClassQueue<T> {
  readonly key: string;
  readonly tasks: Fifo<T>;
}

export class SchedulingQueues<T extends { spec: TaskSpec }> {
  /** Classes in turn order, least recently served first. */
  private readonly queues = new Map<string, ClassQueue<T>>();
  private count = 0;

  /** Tasks waiting, over all classes. */
  get length(): number {
    return this.count;
  }

  push(task: T): void {
    this.queueOf(task).tasks.push(task);
    this.count += 1;
  }

  /** Puts tasks back at the front of their classes, in the order given. */
  returnToFront(tasks: T[]): void {
    for (const task of [...tasks].reverse()) {
      this.queueOf(task).tasks.unshift(task);
      this.count += 1;
    }
  }

  /** A snapshot of the classes in turn order (safe to serve them, which reorders, while iterating). */
  inTurnOrder(): ClassQueue<T>[] {
    return [...this.queues.values()];
  }

  /** The classes in turn order, live: only `shift` may be called while iterating (it may drop the class). */
  classes(): Iterable<ClassQueue<T>> {
    return this.queues.values();
  }

  /** Takes the first task of a class; a class that is left empty is dropped. */
  shift(queue: ClassQueue<T>): T | undefined {
    const task = queue.tasks.shift();
    if (task) this.count -= 1;
    if (queue.tasks.length === 0) this.queues.delete(queue.key);
    return task;
  }

  /** The class was served: it goes to the back of the turn order. */
  served(queue: ClassQueue<T>): void {
    if (this.queues.get(queue.key) !== queue) return;
    this.queues.delete(queue.key);
    this.queues.set(queue.key, queue);
  }

  /** Removes the tasks matching `predicate` (to move or fail them) and returns them. */
  take(predicate: (t: T) => boolean): T[] {
    const taken: T[] = [];
    for (const [key, q] of this.queues) {
      // One by one: a job may leave hundreds of thousands queued (a spread would overflow the stack).
      for (const t of q.tasks.removeWhere(predicate)) taken.push(t);
      if (q.tasks.length === 0) this.queues.delete(key);
    }
    this.count -= taken.length;
    return taken;
  }

  /** Shapes waiting, for `rayts status` Pending Demands: counted per class (there may be a million tasks), added to `byShape`. */
  demands(infeasible: (shape: ResourceMap) => boolean, byShape = new Map<string, ResourceDemand>()): ResourceDemand[] {
    for (const { tasks } of this.queues.values()) {
      const first = tasks.peek();
      if (!first) continue;
      const key = shapeKey(first.spec.resources);
      const d = byShape.get(key);
      if (d) d.count = (d.count ?? 0) + tasks.length;
      else byShape.set(key, { shape: first.spec.resources, count: tasks.length, kind: 'task', strategy: '', infeasible: infeasible(first.spec.resources) });
    }
    return [...byShape.values()];
  }

  /** All waiting tasks, class by class. */
  all(): T[] {
    const out: T[] = [];
    for (const { tasks } of this.queues.values()) for (const t of tasks) out.push(t);
    return out;
  }

  /** The queue of the task's class, made (at the back of the turn order) if it has none. */
  private queueOf(task: T): ClassQueue<T> {
    const key = schedulingClass(task.spec);
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = { key, tasks: new Fifo() }));
    return q;
  }
}
