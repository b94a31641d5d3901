/** The object store's public shapes: its options, what create/get return, and its statistics. */
import { TUNABLES, type Logger } from '@rayts/common';
import type { Arena } from './arena.js';

export const OBJECT_ID_BYTES = 28;
const MiB = 1024 * 1024;

/** The store's defaults; the tunable ones come from the tunables table (one source). */
export const OBJECT_STORE_DEFAULTS = {
  spillThreshold: TUNABLES.objectSpillingThreshold.default,
  /** Fused spill files aim for this many bytes (capped at a tenth of the store when not given). */
  minSpillSize: 100 * MiB,
  maxFusedObjects: TUNABLES.objectSpillingMaxFusedObjects.default,
  diskCapacityThreshold: TUNABLES.localFsCapacityThreshold.default,
  fullTimeoutMs: TUNABLES.objectStoreFullTimeoutMs.default,
} as const;

export interface ObjectStoreOptions {
  /** An arena someone else created (the raylet). The store does not close it. */
  arena?: Arena;
  /** Otherwise the store creates (and owns) an arena of this many bytes… */
  size?: number;
  /** …in this directory (default /dev/shm, falling back to the temp dir with a warning)… */
  dir?: string;
  /** …touching every page once at start (default true). */
  prefault?: boolean;
  /** Where spilled objects go (e.g. `<session>/spill`). Without it spilling is off. */
  spillDir?: string;
  /** Spill in the background once sealed in-memory-only primary copies pass this share of capacity. */
  spillThreshold?: number;
  /** Bytes a fused spill file aims for. Default min(100 MiB, capacity / 10). */
  minSpillSize?: number;
  /** Most objects fused into one spill file. */
  maxFusedObjects?: number;
  /** Spilling fails with OutOfDiskError above this share of the spill filesystem in use (1 = off). */
  diskCapacityThreshold?: number;
  /** How long a create (or restore) waits for space before ObjectStoreFullError. */
  fullTimeoutMs?: number;
  logger?: Logger;
  /** Called when a secondary copy is evicted (the object manager forgets this location). */
  onEvicted?: (id: string) => void;
  /**
   * Called each time a create or restore has to wait for releases (step 3 of making room): only
   * pins held by readers stand in the way, so the raylet asks them to collect garbage now.
   */
  onWaitingForSpace?: () => void;
}

export interface CreateOptions {
  /** true (default): the primary copy, spilled when memory is short. false: a cached secondary copy, evicted first. */
  primary?: boolean;
}

export interface CreatedObject {
  id: string;
  offset: number;
  size: number;
  /** Write the object's bytes here, then `seal(id)`. */
  view: Uint8Array;
}

export interface PinnedObject {
  id: string;
  offset: number;
  size: number;
  /** Valid until `release(id)`; do not keep it after that. */
  view: Uint8Array;
}

export interface ObjectStoreStats {
  capacity: number;
  /** Bytes allocated in the arena (64-byte rounded, including unsealed and pinned-but-deleted objects). */
  used: number;
  free: number;
  largestFree: number;
  numObjects: number;
  numUnsealed: number;
  numPrimary: number;
  numSecondary: number;
  numPinned: number;
  /** Sealed primary copies in memory (whether or not also spilled). */
  primaryBytes: number;
  /** Sealed primary copies in memory that exist nowhere else: what the spill threshold looks at. */
  primaryUnspilledBytes: number;
  secondaryBytes: number;
  unsealedBytes: number;
  /** Objects whose bytes are on disk now (in memory too after a restore). */
  numSpilled: number;
  spilledBytes: number;
  spillFiles: number;
  spillFileBytes: number;
  /** Totals since start. */
  spilledBytesTotal: number;
  spilledObjectsTotal: number;
  restoredBytesTotal: number;
  restoredObjectsTotal: number;
  evictedBytesTotal: number;
  evictedObjectsTotal: number;
  /** Spilled objects dropped because their spill file was missing or damaged at restore. */
  lostObjectsTotal: number;
  spillThroughputMiBps: number;
  restoreThroughputMiBps: number;
  spillDir: string | undefined;
  /** The last background spill failure (e.g. OutOfDiskError), cleared by a successful spill. */
  lastSpillError: string | undefined;
}
