export { startHead, type HeadOptions, type RunningHead } from './head.js';
export { openDatabase, DB_FILE } from './storage/database.js';
export { loadOrCreateIdentity } from './cluster_identity.js';
export type { NodeRecord } from './storage/node_table.js';
export type { LiveNode } from './node_manager.js';
export type { ActorRecord } from './storage/actor_table.js';
export type { PlacementGroup } from './placement_group_manager.js';
export type { JobRecord } from './job_table.js';
