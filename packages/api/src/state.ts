/** The driver's connection: set by `init`, cleared by `shutdown`. Inside a task the worker's own runtime is used. */
import { globalWorker, type CoreWorker } from '@rayts/core-worker';
import { NotInitializedError } from './errors.js';
import type { LocalCluster } from './local_cluster.js';

export interface DriverState {
  core: CoreWorker;
  jobId: string;
  localCluster?: LocalCluster;
  /** The job's namespace for named actors (init's `namespace`; undefined = 'default'). */
  namespace?: string;
  /** What init connected to: the head's GCS address, or the rayts:// address. */
  address: string;
}

let state: DriverState | undefined;

export function setState(next: DriverState | undefined): void {
  state = next;
}

export function driverState(): DriverState | undefined {
  return state;
}


export function runtime(): CoreWorker {
  const core = state?.core ?? globalWorker();
  if (!core) throw new NotInitializedError('rayts is not initialized', 'call `await ray.init()` first');
  return core;
}
