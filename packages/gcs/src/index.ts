export { startHead, type HeadOptions, type RunningHead } from './head.js';
export { openDatabase, DB_FILE } from './storage/database.js';
export { loadOrCreateIdentity } from './cluster_identity.js';
export { TaskEventStore, type TaskEventStats, type AttemptReport } from './task_events/task_event_store.js';
export type { TaskAttempt, TaskLogLocation, TaskState, TaskType } from '@rayts/common';
