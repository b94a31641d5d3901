/**
 * Tasks an owner pushes to leased workers are grouped by scheduling key (Ray's SchedulingKey): the
 * job, the function, whether the memory monitor may kill it, and the resources. A leased worker runs
 * tasks of its key only, so a lease is granted for one shape and bound to one job. Only tasks with
 * the default strategy and no placement group go this way; the rest go through the raylet.
 */
import { parseGroupResource } from '@rayts/common';
import type { TaskSpec } from '../protocol/messages.js';

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
