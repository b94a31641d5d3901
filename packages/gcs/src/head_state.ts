/**
 * What the head's in-process parts offer to code that runs beside them in the head process (the
 * HTTP API server of @rayts/dashboard): read access to the cluster's tables and managers, the
 * config, and the head's client pool of raylets. It is the same object the gRPC services see, so
 * both answer from one state (no second SQLite open).
 */
import type { ClientPool, Config, RayletClient } from '@rayts/common';
import type { ClusterIdentity } from './cluster_identity.js';
import type { NodeManager } from './node_manager.js';
import type { ActorManager } from './actor_manager.js';
import type { PlacementGroupManager } from './placement_group_manager.js';
import type { JobTable } from './job_table.js';
import type { KvStore } from './kv_store.js';
import type { TaskEventStore } from './task_events/task_event_store.js';
import type { JobManager } from './jobs/job_manager.js';
import type { PackageApi } from './jobs/job_api.js';

export interface HeadState {
  readonly identity: ClusterIdentity;
  /** The session directory's name (`session_<time>_<pid>`). */
  readonly sessionName: string;
  /** HOST:PORT the GCS listens on. */
  readonly gcsAddress: string;
  readonly startedAtMs: number;
  readonly nodes: NodeManager;
  readonly actors: ActorManager;
  readonly placementGroups: PlacementGroupManager;
  /** Drivers (hex job ids), as they register with init(). */
  readonly jobs: JobTable;
  /** Submitted jobs (`rayts job submit`, `/api/jobs/`). */
  readonly jobSubmissions: JobManager;
  /** working_dir packages on the head's disk. */
  readonly packages: PackageApi;
  readonly kv: KvStore;
  /** Every task attempt's state changes, as drivers and workers report them (in memory, bounded). */
  readonly taskEvents: TaskEventStore;
  readonly config: Config;
  /** The head's clients of the raylets, one per address (probes use the same ones). */
  readonly raylets: ClientPool<RayletClient>;
}
