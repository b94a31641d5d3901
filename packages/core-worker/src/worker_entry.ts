import { fileURLToPath } from 'node:url';

/** Path of the worker entry point a raylet forks. */
export const WORKER_MAIN = fileURLToPath(new URL('./worker_main.js', import.meta.url));
