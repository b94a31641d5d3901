/**
 * Tasks an owner pushes to leased workers are grouped by scheduling key (Ray's SchedulingKey): the
 * job, the function, whether the memory monitor may kill it, and the resources. A leased worker runs
 * tasks of its key only, so a lease is granted for one shape and bound to one job. Only tasks with
 * the default strategy and no placement group go this way; the rest go through the raylet.
 */
import { parseGroupResource } from '@rayts/common';
import type { TaskSpec } from '../protocol/messages.js';

/** Tasks of one key waiting for a leased worker, in submission order (returned ones go to the front). */
export class SpecQueue {
  private items: TaskSpec[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): TaskSpec | undefined {
    return this.items[this.head];
  }

  push(spec: TaskSpec): void {
    this.items.push(spec);
  }

  shift(): TaskSpec | undefined {
    if (this.head >= this.items.length) return undefined;
    const spec = this.items[this.head];
    this.items[this.head++] = undefined as unknown as TaskSpec;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return spec;
  }

  /** Puts tasks back in front, in the order given. */
  unshiftAll(specs: TaskSpec[]): void {
    if (specs.length === 0) return;
    this.items = [...specs, ...this.items.slice(this.head)];
    this.head = 0;
  }

  /** Takes out the task with this id (a cancel), if it waits here. */
  remove(taskId: string): TaskSpec | undefined {
    const i = this.items.findIndex((s, k) => k >= this.head && s.taskId === taskId);
    if (i < 0) return undefined;
    return this.items.splice(i, 1)[0];
  }

  /** Takes out every task. */
  drain(): TaskSpec[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }
}

/** The key of a task that may be pushed to a leased worker (undefined: it goes through the raylet). */
export class SchedulingKeys {
  /** The resources part of the key, by resource map (the owner shares one map among tasks of the same options); '' = not leasable. */
  private readonly shapes = new WeakMap<object, string>();

  keyOf(spec: TaskSpec): string | undefined {
    if (spec.strategy.kind !== 'DEFAULT' || spec.actorId) return undefined;
    let shape = this.shapes.get(spec.resources);
    if (shape === undefined) {
      const entries = Object.entries(spec.resources).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      // A placement group's bundle resources: its raylet's bundle accounting stays the only way in.
      shape = entries.some(([name]) => parseGroupResource(name)) ? '' : entries.map(([k, v]) => `${k}=${v}`).join(',') || '-';
      this.shapes.set(spec.resources, shape);
    }
    if (shape === '') return undefined;
    return `${spec.jobId}|${spec.fnHash}|${spec.retriable === false ? 'n' : 'r'}|${shape}`;
  }
}
