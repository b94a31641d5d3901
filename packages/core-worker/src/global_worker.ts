/**
 * The runtime of this process as the public API finds it when nothing was passed in: a worker's own
 * (`import('rayts')` inside a task gives the API, whose calls use it), or the driver's after `init`.
 * Nothing inside the core worker reads it: its parts are wired through their constructors, and
 * actor handles call through the runtime that made or decoded them.
 */
import type { CoreWorker } from './core_worker.js';

let current: CoreWorker | undefined;

export function setGlobalWorker(worker: CoreWorker | undefined): void {
  current = worker;
}

export function globalWorker(): CoreWorker | undefined {
  return current;
}
