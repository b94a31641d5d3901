/**
 * What a valid placement group request is, checked the same way by the API (before anything is
 * sent) and by the head (for any other client). Each check returns a problem description that says
 * what was wrong, or undefined.
 */
import { PLACEMENT_STRATEGIES, isPlacementStrategy } from './bundle_resources.js';
import { RESOURCE_NAME } from '../resources.js';

/** Most bundles in one group: a bound on the head's work, far above any real use. */
export const MAX_BUNDLES = 1000;

export function bundlesProblem(bundles: unknown): string | undefined {
  if (!Array.isArray(bundles)) return `bundles must be an array of resource maps like [{ CPU: 1 }], got ${typeof bundles}`;
  if (bundles.length === 0) return 'the bundle list is empty: give at least one bundle, like [{ CPU: 1 }]';
  if (bundles.length > MAX_BUNDLES) return `a placement group has at most ${MAX_BUNDLES} bundles, got ${bundles.length}`;
  for (const [i, bundle] of bundles.entries()) {
    if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle)) return `bundle ${i} must be a resource map like { CPU: 1 }`;
    const entries = Object.entries(bundle as Record<string, unknown>);
    if (entries.length === 0) return `bundle ${i} is empty: give each bundle at least one resource, like { CPU: 1 }`;
    for (const [name, amount] of entries) {
      if (!RESOURCE_NAME.test(name) || name.length > 256) return `bundle ${i}: '${name}' is not a valid resource name`;
      if (/_group_/.test(name)) return `bundle ${i}: '${name}' is a placement-group resource; ask for the plain resource (CPU, GPU, …)`;
      if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
        return `bundle ${i}: ${name} must be a finite amount >= 0, got ${typeof amount === 'number' ? String(amount) : JSON.stringify(amount) ?? String(amount)}`;
      }
    }
    if (entries.every(([, amount]) => amount === 0)) return `bundle ${i} asks for nothing (every amount is 0): give it a positive amount`;
  }
  return undefined;
}

export function strategyProblem(strategy: unknown): string | undefined {
  return isPlacementStrategy(strategy) ? undefined : `unknown placement strategy ${JSON.stringify(strategy)}: use one of ${PLACEMENT_STRATEGIES.join(', ')}`;
}
