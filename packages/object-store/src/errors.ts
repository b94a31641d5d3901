/** The object store's errors: every class the package throws on purpose. */
import { DaemonStartError, RaytsError, formatBytes } from '@rayts/common';

/** An object with this id already exists (or is being created). */
export class ObjectExistsError extends RaytsError {}

/**
 * A spilled object's only copy (its spill file) is missing or damaged. The store has dropped the
 * object, so the id can be created again (a task re-run by lineage writes it anew).
 */
export class SpilledObjectLostError extends RaytsError {
  constructor(readonly objectId: string, readonly size: number, readonly spillPath: string, readonly problem: string) {
    super(`object ${objectId} (${formatBytes(size)}) was spilled to ${spillPath}, but that file ${problem}; ` +
      'the object store held no other copy, so the object is lost');
  }
}

/** A spill file is gone or its contents cannot be trusted; `problem` says what was found. */
export class SpillFileDamagedError extends RaytsError {
  constructor(readonly path: string, readonly problem: string) {
    super(`spill file ${path} ${problem}`);
  }
}

/** The object store's native addon has no build that loads here (none built, no fitting prebuilt). */
export class NativeAddonError extends DaemonStartError {}

/** `--object-store-huge-pages=on` on a host that has neither reserved huge pages nor shmem THP. */
export class HugePagesUnavailableError extends DaemonStartError {}
