/** What a caller may ask of a task (Ray's names), and how it becomes the spec's resources and strategy. */
import { placementGroupShape, type PlacementGroupTarget } from './placement_group_resources.js';
import type { ResourceShape, SchedulingStrategy } from './protocol/messages.js';
import { InvalidResourceRequestError } from './errors.js';

export interface TaskOptions {
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  resources?: Record<string, number>;
  maxRetries?: number;
  retryExceptions?: boolean;
  scheduling?: 'DEFAULT' | 'SPREAD' | { nodeId: string; soft: boolean };
  name?: string;
  /** Run in this placement group's reserved resources (placement_group_resources.ts). */
  placementGroup?: PlacementGroupTarget;
  /** Which bundle of `placementGroup`; -1 or absent = any. */
  bundleIndex?: number;
}

/** Retries of a task whose worker or node died, when the caller does not say (Ray's default). */
export const DEFAULT_MAX_RETRIES = 3;

export function resourceShape(options: TaskOptions): ResourceShape {
  const gpus = options.numGpus;
  if (gpus !== undefined && gpus > 1 && !Number.isInteger(gpus)) {
    throw new InvalidResourceRequestError(`numGpus above 1 must be a whole number of GPUs (as in Ray), got ${gpus}: ask for ${Math.ceil(gpus)}, or for a fraction below 1 to share one GPU`);
  }
  const shape: ResourceShape = { CPU: options.numCpus ?? 1 };
  if (options.numGpus) shape.GPU = options.numGpus;
  if (options.memory) shape.memory = options.memory;
  for (const [k, v] of Object.entries(options.resources ?? {})) shape[k] = v;
  for (const k of Object.keys(shape)) if (shape[k] === 0) delete shape[k];
  return options.placementGroup ? placementGroupShape(shape, options.placementGroup, options.bundleIndex) : shape;
}

export function strategyOf(s: TaskOptions['scheduling']): SchedulingStrategy {
  if (!s || s === 'DEFAULT') return { kind: 'DEFAULT' };
  if (s === 'SPREAD') return { kind: 'SPREAD' };
  return { kind: 'NODE_AFFINITY', nodeId: s.nodeId, soft: s.soft };
}
