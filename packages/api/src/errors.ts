/** The error classes of the public API itself (the runtime's are re-exported from @rayts/core-worker). */
import { RaytsError } from '@rayts/common';

/** An actor option that makes no sense: the message says which and what is allowed. */
export class ActorOptionsError extends RaytsError {}

/** No live actor has that name in the namespace. */
export class ActorNotFoundError extends RaytsError {}

/** `ready()` of a group that was removed before all its bundles were reserved. */
export class PlacementGroupRemovedError extends RaytsError {}

/** An API call that needs a runtime, before `init` (and outside a task). */
export class NotInitializedError extends RaytsError {}
