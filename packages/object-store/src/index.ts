export { Allocator, ALIGNMENT, alignUp, type AllocatorStats } from './allocator.js';
export { Arena, DEFAULT_ARENA_DIR, defaultSegmentSize, type ArenaCreateOptions, type ArenaAttachOptions } from './arena.js';
export { choosePageMode, hugetlbSize, parseHugePagesSetting, readHugePageFacts, HUGE_PAGE_BYTES, HUGE_PAGES_SETTINGS, type HugePageFacts, type HugePagesSetting, type PageMode } from './page_mode.js';
export { loadNative, adviceConstants, nativeAddonPath, type NativeShm } from './native.js';
export { SpillManager, type SpillFile, type SpillLocation, type SpillManagerOptions } from './spill.js';
export { HugePagesUnavailableError, NativeAddonError, ObjectExistsError, SpilledObjectLostError, SpillFileDamagedError } from './errors.js';
export { ObjectStore } from './object_store.js';
export {
  OBJECT_ID_BYTES,
  OBJECT_STORE_DEFAULTS,
  type ObjectStoreOptions,
  type CreateOptions,
  type CreatedObject,
  type PinnedObject,
  type ObjectStoreStats,
} from './store_api.js';
