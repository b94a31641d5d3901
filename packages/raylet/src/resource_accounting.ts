/** Arithmetic on resource maps as the local scheduler holds and returns them. */
import type { ResourceMap } from '@rayts/common';

export function acquire(available: ResourceMap, shape: ResourceMap): void {
  for (const [k, v] of Object.entries(shape)) available[k] = (available[k] ?? 0) - v;
}

/** Gives resources back; a placement-group resource that is gone from `total` (the bundle was returned) stays gone. */
export function release(available: ResourceMap, shape: ResourceMap, total: ResourceMap): void {
  for (const [k, v] of Object.entries(shape)) if (k in total) available[k] = (available[k] ?? 0) + v;
}

/** The CPU part of a shape: what a blocked worker lends back. */
export function cpuPart(shape: ResourceMap): ResourceMap {
  return shape.CPU ? { CPU: shape.CPU } : {};
}

export function subtract(a: ResourceMap, b: ResourceMap): ResourceMap {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) - v;
  return out;
}

/** A queue key per resource shape (Ray's scheduling class), the same for equal shapes in any key order. */
export function shapeKey(shape: ResourceMap): string {
  const keys = Object.keys(shape);
  if (keys.length === 1) return `${keys[0]}:${shape[keys[0]!]}`;
  return keys.sort().map((k) => `${k}:${shape[k]}`).join(',');
}
