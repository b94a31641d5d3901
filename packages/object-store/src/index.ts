export { Allocator, ALIGNMENT, alignUp, type AllocatorStats } from './allocator.js';
export { Arena, DEFAULT_ARENA_DIR, defaultSegmentSize, type ArenaCreateOptions, type ArenaAttachOptions } from './arena.js';
export { loadNative, adviceConstants, NATIVE_ADDON_PATH, type NativeShm } from './native.js';
export { SpillManager, SpillFileDamagedError, type SpillFile, type SpillLocation, type SpillManagerOptions } from './spill.js';
export {
  ObjectStore,
  ObjectExistsError,
  SpilledObjectLostError,
  OBJECT_ID_BYTES,
  OBJECT_STORE_DEFAULTS,
  type ObjectStoreOptions,
  type CreateOptions,
  type CreatedObject,
  type PinnedObject,
  type ObjectStoreStats,
} from './object_store.js';
