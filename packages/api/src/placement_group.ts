/**
 * Placement groups: `placementGroup(bundles, options)` returns at once
 * and the head reserves the bundles in the background; `ready()` resolves once every bundle is
 * reserved (a long poll on the head, no busy polling). Tasks target a bundle with
 * `fn.options({ placementGroup: pg, bundleIndex: i })`.
 */
import {
  loadConfig,
  bundlesProblem, newPlacementGroupId, strategyProblem, type PlacementGroupInfo__Output, type PlacementGroupState,
  type PlacementStrategy,
} from '@rayts/common';
import { InvalidPlacementGroupError, type PlacementGroupTarget } from '@rayts/core-worker';
import { PlacementGroupRemovedError } from './errors.js';
import { driverState, runtime } from './state.js';

export type { PlacementStrategy, PlacementGroupState };


export interface PlacementGroupOptions {
  /** PACK (default), SPREAD, STRICT_PACK or STRICT_SPREAD. */
  strategy?: PlacementStrategy;
  /** A name `getPlacementGroup(name)` finds; unique among live groups. */
  name?: string;
  /** 'detached' keeps the group after the driver's job ends (default: removed with the job). */
  lifetime?: 'detached';
}

export class PlacementGroup implements PlacementGroupTarget {
  /** @internal the create call, so `ready()` reports what the head refused. */
  private readonly created: Promise<PlacementGroupInfo__Output | undefined>;

  constructor(
    readonly id: string,
    readonly bundleSpecs: readonly Record<string, number>[],
    readonly strategy: PlacementStrategy,
    readonly name: string,
    created: Promise<PlacementGroupInfo__Output | undefined>,
  ) {
    this.created = created;
    // A refusal surfaces in ready()/wait(); keep it from being an unhandled rejection meanwhile.
    this.created.catch(() => undefined);
  }

  /** Resolves when every bundle is reserved. */
  async ready(): Promise<void> {
    await this.waitUntilCreated(Infinity);
  }

  /** True when every bundle is reserved within `timeoutSeconds`, false otherwise. */
  async wait(timeoutSeconds = 30): Promise<boolean> {
    if (!(timeoutSeconds >= 0)) throw new RangeError(`wait(timeoutSeconds): give a number of seconds >= 0, got ${timeoutSeconds}`);
    return this.waitUntilCreated(performance.now() + timeoutSeconds * 1000);
  }

  /** @internal resolves once the head answered the create (whatever it said). */
  async settled(): Promise<void> {
    await this.created.catch(() => undefined);
  }

  /** The head's record of the group (state, bundle nodes). */
  async info(): Promise<PlacementGroupInfo__Output | undefined> {
    await this.created;
    return runtime().gcs.getPlacementGroup({ placementGroupId: this.id });
  }

  private async waitUntilCreated(deadline: number): Promise<boolean> {
    let info = await this.created;
    for (;;) {
      if (info?.state === 'CREATED') return true;
      if (!info || info.state === 'REMOVED') throw new PlacementGroupRemovedError(`placement group ${this.id} was removed before it was ready`);
      const left = deadline - performance.now();
      if (left <= 0) return false;
      info = await runtime().gcs.getPlacementGroup({
        placementGroupId: this.id, minVersion: Number(info.version) + 1, waitMs: Math.ceil(Math.min(left, loadConfig().placementGroupWaitChunkMs)),
      });
    }
  }
}

/** Reserves `bundles` (resource maps) on the cluster with `strategy`; returns at once. */
export function placementGroup(bundles: Record<string, number>[], options: PlacementGroupOptions = {}): PlacementGroup {
  const strategy = options.strategy ?? 'PACK';
  const problem = strategyProblem(strategy) ?? bundlesProblem(bundles);
  if (problem) throw new InvalidPlacementGroupError(problem, 'see ray.placementGroup() in docs/api.md');
  if (options.lifetime !== undefined && options.lifetime !== 'detached') {
    throw new InvalidPlacementGroupError(`lifetime must be 'detached' or left out, got ${JSON.stringify(options.lifetime)}`);
  }
  const core = runtime();
  const id = newPlacementGroupId();
  const specs = bundles.map((b) => ({ ...b }));
  const created = core.gcs.createPlacementGroup({
    placementGroupId: id, name: options.name ?? '', strategy, bundles: specs.map((resources) => ({ resources })),
    jobId: driverState()?.jobId ?? core.jobId, detached: options.lifetime === 'detached',
  });
  return new PlacementGroup(id, specs, strategy, options.name ?? '', created);
}

/** Removes the group and gives its resources back (tasks aimed at it then wait forever, as in Ray). */
export async function removePlacementGroup(group: PlacementGroup): Promise<void> {
  if (!(group instanceof PlacementGroup)) throw new InvalidPlacementGroupError('removePlacementGroup() takes a PlacementGroup');
  await group.settled(); // the create must land first, or it would come back after the removal
  await runtime().gcs.removePlacementGroup(group.id);
}

/** The live group with this name. */
export async function getPlacementGroup(name: string): Promise<PlacementGroup> {
  const info = await runtime().gcs.getPlacementGroup({ name });
  if (!info || info.state === 'REMOVED') throw new InvalidPlacementGroupError(`no placement group named '${name}'`, 'check the name given to ray.placementGroup()');
  const bundles = info.bundles.map((b) => Object.fromEntries(Object.entries(b.resources).map(([k, v]) => [k, Number(v)])));
  return new PlacementGroup(info.placementGroupId, bundles, info.strategy as PlacementStrategy, info.name, Promise.resolve(info));
}
