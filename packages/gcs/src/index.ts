export { startHead, type HeadOptions, type RunningHead } from './head.js';
export { openDatabase, DB_FILE } from './storage/database.js';
export { loadOrCreateIdentity } from './cluster_identity.js';
