/**
 * Loader for the `rayts_shm` N-API addon (packages/object-store/native). It is the only native code
 * in rayts: mmap of a shared file as an external ArrayBuffer, madvise, fallocate, memfd_create and the
 * page size.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { NativeAddonError } from './errors.js';

export interface NativeShm {
  /** mmap(MAP_SHARED) `size` bytes of `fd` at file `offset` (page aligned). The mapping lives until
   * the returned ArrayBuffer is garbage-collected. */
  map(fd: number, size: number, writable: boolean, populate: boolean, offset?: number): ArrayBuffer;
  /** madvise over the pages covering [offset, offset+length) of a buffer returned by `map`. */
  advise(buffer: ArrayBuffer, offset: number, length: number, advice: number): void;
  /** fallocate(fd, 0, offset, length): reserves the blocks. false when the filesystem cannot. */
  fallocate(fd: number, offset: number, length: number): boolean;
  /** memfd_create(name, MFD_CLOEXEC | (hugetlb ? MFD_HUGETLB | MFD_HUGE_2MB : 0)): an fd. */
  memfd(name: string, hugetlb: boolean): number;
  /** MADV_POPULATE_READ/_WRITE over the range on the libuv pool; false when the kernel refused it. */
  populate(buffer: ArrayBuffer, offset: number, length: number, write: boolean): Promise<boolean>;
  pageSize(): number;
  /** malloc_trim(0): the allocator's free memory goes back to the system (glibc; false elsewhere or when nothing was returned). */
  trim(): boolean;
  readonly advice: Readonly<Record<string, number>>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The package directory: src/ (vitest) and dist/ (built) both sit one level below it. */
export const OBJECT_STORE_PACKAGE_DIR = join(here, '..');
const NATIVE_DIR = join(OBJECT_STORE_PACKAGE_DIR, 'native');

/** node-gyp-build: the addon built here (native/build/Release, in a checkout) or else the prebuilt
 * one for this platform, architecture and libc (native/prebuilds/<platform>-<arch>/, in a package). */
interface GypBuildLoader { resolve(dir: string): string }
const gypBuild = createRequire(import.meta.url)('node-gyp-build') as GypBuildLoader;

/** What to run to build the addon from source, for messages. */
const BUILD_HINT = `build it on this machine: node ${join(NATIVE_DIR, 'build.mjs')} ` +
  '(needs python3, make, a C compiler and the Node headers)';

/** The addon file that loads on this machine (under `dir`, the package's native/ by default);
 * throws NativeAddonError with what to do when there is none. */
export function nativeAddonPath(dir = NATIVE_DIR): string {
  try {
    return gypBuild.resolve(dir);
  } catch (err) {
    throw new NativeAddonError(
      `the object store's native addon has no build for this machine (${process.platform}-${process.arch}) ` +
        `under ${dir}: ${(err as Error).message.split('\n')[0]}`, BUILD_HINT);
  }
}

let cached: NativeShm | undefined;

export function loadNative(): NativeShm {
  if (cached) return cached;
  const path = nativeAddonPath();
  try {
    cached = createRequire(import.meta.url)(path) as NativeShm;
  } catch (err) {
    throw new NativeAddonError(`cannot load the object store's native addon ${path}: ${(err as Error).message}`, BUILD_HINT);
  }
  return cached;
}

/** The MADV_* constants of this platform (MADV_DONTNEED, MADV_WILLNEED, MADV_REMOVE, …). */
export function adviceConstants(): Readonly<Record<string, number>> {
  return loadNative().advice;
}
