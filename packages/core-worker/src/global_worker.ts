/**
 * The process-wide core worker: the driver's after `init`, or the worker's own. `import('rayts')`
 * inside a task finds the worker's runtime here, so nested tasks and get/put work without init.
 */
import type { CoreWorker } from './core_worker.js';

let current: CoreWorker | undefined;

export function setGlobalWorker(worker: CoreWorker | undefined): void {
  current = worker;
}

export function globalWorker(): CoreWorker | undefined {
  return current;
}
