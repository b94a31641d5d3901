/**
 * Placement-group vocabulary shared by the API, the raylet and the head. A bundle
 * i of group G that reserves {CPU: 1} makes its node offer `CPU_group_<G>` and `CPU_group_<i>_<G>`
 * (plus `bundle_group_<G>` / `bundle_group_<i>_<G>`, 1000 each); a task in bundle i asks for
 * `CPU_group_<i>_<G>` instead of `CPU`. The ordinary scheduling then places it, unchanged.
 */
import { randomBytes } from 'node:crypto';
import type { ResourceMap } from '../resources.js';

export const PLACEMENT_STRATEGIES = ['PACK', 'SPREAD', 'STRICT_PACK', 'STRICT_SPREAD'] as const;
export type PlacementStrategy = (typeof PLACEMENT_STRATEGIES)[number];

export const PLACEMENT_GROUP_STATES = ['PENDING', 'PREPARED', 'CREATED', 'REMOVED', 'RESCHEDULING'] as const;
export type PlacementGroupState = (typeof PLACEMENT_GROUP_STATES)[number];

/** Ray's placement group ids are 18 bytes. */
export const PLACEMENT_GROUP_ID_BYTES = 18;

/** The marker resource every bundle offers, so zero-resource tasks can still target a bundle. */
export const BUNDLE_RESOURCE = 'bundle';
/** What a bundle offers of the marker (Ray's value). */
export const BUNDLE_MARKER_CAPACITY = 1000;
/** What a task in a bundle asks of the marker. */
export const BUNDLE_MARKER_DEMAND = 0.001;

export function newPlacementGroupId(): string {
  return randomBytes(PLACEMENT_GROUP_ID_BYTES).toString('hex');
}

export function isPlacementStrategy(value: unknown): value is PlacementStrategy {
  return typeof value === 'string' && (PLACEMENT_STRATEGIES as readonly string[]).includes(value);
}

/** `CPU_group_<pg>` (index undefined or -1: any bundle) or `CPU_group_<i>_<pg>`. */
export function groupResourceName(resource: string, placementGroupId: string, bundleIndex?: number): string {
  return bundleIndex === undefined || bundleIndex < 0
    ? `${resource}_group_${placementGroupId}`
    : `${resource}_group_${bundleIndex}_${placementGroupId}`;
}

export interface GroupResource {
  /** The original resource (`CPU`, `bundle`, …). */
  resource: string;
  placementGroupId: string;
  /** Undefined for the group-wide (wildcard) resource. */
  bundleIndex?: number;
}

const INDEXED = /^(.+)_group_(\d+)_([0-9a-f]+)$/;
const WILDCARD = /^(.+)_group_([0-9a-f]+)$/;

/** Parses a placement-group resource name; undefined for ordinary resources. */
export function parseGroupResource(name: string): GroupResource | undefined {
  const indexed = INDEXED.exec(name);
  if (indexed) return { resource: indexed[1]!, bundleIndex: Number(indexed[2]), placementGroupId: indexed[3]! };
  const wildcard = WILDCARD.exec(name);
  if (wildcard) return { resource: wildcard[1]!, placementGroupId: wildcard[2]! };
  return undefined;
}

/** The ordinary resources of a map (CPU, memory, custom ones), without placement-group ones. */
export function plainResources(map: ResourceMap): ResourceMap {
  const out: ResourceMap = {};
  // A substring test, not the parse: this runs over every key (four per bundle) after each step.
  for (const k in map) if (!k.includes('_group_')) out[k] = map[k]!;
  return out;
}

/**
 * What committing bundle `index` of a group adds to its node: each reserved resource twice (indexed
 * and group-wide) and the bundle marker. The raylet adds this to its total and available.
 */
export function bundleGroupResources(placementGroupId: string, bundleIndex: number, reserved: ResourceMap): ResourceMap {
  const out: ResourceMap = {};
  for (const [resource, amount] of Object.entries(reserved)) {
    if (amount <= 0) continue;
    out[groupResourceName(resource, placementGroupId, bundleIndex)] = amount;
    out[groupResourceName(resource, placementGroupId)] = amount;
  }
  out[groupResourceName(BUNDLE_RESOURCE, placementGroupId, bundleIndex)] = BUNDLE_MARKER_CAPACITY;
  out[groupResourceName(BUNDLE_RESOURCE, placementGroupId)] = BUNDLE_MARKER_CAPACITY;
  return out;
}

/** Sum of several shapes (the resources a set of bundles needs on one node). */
export function sumShapes(shapes: ResourceMap[]): ResourceMap {
  const out: ResourceMap = {};
  for (const s of shapes) for (const [k, v] of Object.entries(s)) out[k] = (out[k] ?? 0) + v;
  return out;
}
