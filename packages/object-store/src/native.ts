/**
 * Loader for the `rayts_shm` N-API addon (packages/object-store/native). It is the only native code
 * in rayts: mmap of a shared file as an external ArrayBuffer, madvise, fallocate and the page size.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface NativeShm {
  /** mmap(MAP_SHARED) `size` bytes of `fd` at file `offset` (page aligned). The mapping lives until
   * the returned ArrayBuffer is garbage-collected. */
  map(fd: number, size: number, writable: boolean, populate: boolean, offset?: number): ArrayBuffer;
  /** madvise over the pages covering [offset, offset+length) of a buffer returned by `map`. */
  advise(buffer: ArrayBuffer, offset: number, length: number, advice: number): void;
  /** fallocate(fd, 0, offset, length): reserves the blocks. false when the filesystem cannot. */
  fallocate(fd: number, offset: number, length: number): boolean;
  pageSize(): number;
  readonly advice: Readonly<Record<string, number>>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** src/ (vitest) and dist/ (built) both sit one level below the package directory. */
export const NATIVE_ADDON_PATH = join(here, '..', 'native', 'build', 'Release', 'rayts_shm.node');

let cached: NativeShm | undefined;

export function loadNative(): NativeShm {
  if (cached) return cached;
  if (!existsSync(NATIVE_ADDON_PATH)) {
    throw new Error(
      `the object store's native addon is missing (${NATIVE_ADDON_PATH}): run npm run build:native ` +
        '(needs g++, make, python3 and the Node headers)',
    );
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(NATIVE_ADDON_PATH) as NativeShm;
  } catch (err) {
    throw new Error(
      `cannot load the object store's native addon ${NATIVE_ADDON_PATH}: ${(err as Error).message}; ` +
        'run npm run build:native (it must be built against this Node version)',
    );
  }
  return cached;
}

/** The MADV_* constants of this platform (MADV_DONTNEED, MADV_WILLNEED, MADV_REMOVE, …). */
export function adviceConstants(): Readonly<Record<string, number>> {
  return loadNative().advice;
}
