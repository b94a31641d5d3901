export * from './protocol/messages.js';
export * from './errors.js';
export * from './object_ref.js';
export * from './core_worker.js';
export * from './placement_group_resources.js';
export * from './memory_store.js';
export * from './runtime_context.js';
export * from './global_worker.js';
export * from './function/index.js';
export * from './actor/actor_spec.js';
export * from './actor/actor_handle.js';
export { newObjectId, newTaskId, newPutId } from './ids.js';
import { fileURLToPath } from 'node:url';

/** Path of the worker entry point a raylet forks. */
export const WORKER_MAIN = fileURLToPath(new URL('./worker_main.js', import.meta.url));
