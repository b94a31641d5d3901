/**
 * Tasks (and actors) aimed at a placement group ask for the group's resources instead of the plain
 * ones (Ray's scheme): in bundle i, `CPU` becomes `CPU_group_<i>_<pg>` (and
 * `CPU_group_<pg>`); in any bundle (index -1 or absent), `CPU_group_<pg>` alone. A small demand on the bundle marker
 * (`bundle_group_…`) lets zero-resource work target a bundle too. The raylets offer these resources
 * once the bundles are committed, so the ordinary scheduling places the work on the bundle's node.
 */
import {
  BUNDLE_MARKER_DEMAND, BUNDLE_RESOURCE, groupResourceName, type ResourceMap,
} from '@rayts/common';
import { InvalidPlacementGroupError } from './errors.js';

/**
 * What the rewrite needs of a group. A `PlacementGroup` of the API is one; so is the plain object
 * it becomes when passed to a task (values travel by v8 serialization, without their class).
 */
export interface PlacementGroupTarget {
  readonly id: string;
  readonly bundleSpecs: readonly Record<string, number>[];
}


export function checkBundleIndex(group: PlacementGroupTarget, bundleIndex: number | undefined): void {
  if (bundleIndex === undefined || bundleIndex === -1) return;
  const count = group.bundleSpecs.length;
  if (!Number.isInteger(bundleIndex) || bundleIndex < -1 || bundleIndex >= count) {
    throw new InvalidPlacementGroupError(
      `bundleIndex ${bundleIndex} is out of range: placement group ${group.id} has ${count} bundle${count === 1 ? '' : 's'}`,
      `use 0..${count - 1}, or -1 (or leave it out) for any bundle`);
  }
}

/** The shape a task in `group` (bundle `bundleIndex`, -1 = any) asks for instead of `shape`. */
export function placementGroupShape(shape: ResourceMap, group: PlacementGroupTarget, bundleIndex = -1): ResourceMap {
  if (typeof group?.id !== 'string' || !Array.isArray(group.bundleSpecs)) {
    throw new InvalidPlacementGroupError('placementGroup must be a PlacementGroup returned by ray.placementGroup()',
      'pass the object ray.placementGroup() or ray.getPlacementGroup() returned');
  }
  checkBundleIndex(group, bundleIndex);
  // As Ray's AddPlacementGroupConstraint: always the group-wide name, plus the bundle's own for an
  // index, so the group-wide amounts stay true (a task in bundle 1 also uses the group's CPU).
  const out: ResourceMap = {};
  const ask = (resource: string, amount: number) => {
    out[groupResourceName(resource, group.id)] = amount;
    if (bundleIndex >= 0) out[groupResourceName(resource, group.id, bundleIndex)] = amount;
  };
  for (const [resource, amount] of Object.entries(shape)) if (amount > 0) ask(resource, amount);
  ask(BUNDLE_RESOURCE, BUNDLE_MARKER_DEMAND);
  return out;
}

/** Checks the placement-group part of task options early (at `.options()`), and returns them. */
export function checkPlacementOptions<T extends { placementGroup?: PlacementGroupTarget; bundleIndex?: number }>(options: T): T {
  if (options.placementGroup) placementGroupShape({}, options.placementGroup, options.bundleIndex);
  else if (options.bundleIndex !== undefined && options.bundleIndex !== -1) {
    throw new InvalidPlacementGroupError(`bundleIndex ${options.bundleIndex} was given without a placementGroup`, 'pass placementGroup too');
  }
  return options;
}
