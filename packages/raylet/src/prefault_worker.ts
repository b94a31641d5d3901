/**
 * Runs in a worker thread of the raylet: reserves every page of the object store's arena file
 * (fallocate on tmpfs allocates and zeroes them), so that puts later write into memory that exists
 * instead of taking a first-touch fault per page (~30x a memcpy on these VMs). Off the main thread,
 * so the raylet answers at once and the reservation finishes in the background.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSync, closeSync, constants } from 'node:fs';
import { loadNative } from '@rayts/object-store';

const { path, size } = workerData as { path: string; size: number };
const started = performance.now();
let error: string | undefined;
try {
  const fd = openSync(path, constants.O_RDWR);
  try {
    loadNative().fallocate(fd, 0, size);
  } finally {
    closeSync(fd);
  }
} catch (err) {
  error = (err as Error).message;
}
parentPort?.postMessage({ ms: performance.now() - started, error });
