/**
 * The one table of every tunable: its default, the RAYTS_* environment variable that overrides it,
 * and what it means. Daemons inherit the environment of the `rayts start` that launched them, so a
 * test (or a systemd EnvironmentFile) shortens health checks by setting the variables below.
 */
import { UsageError } from './errors.js';

type Kind = 'int' | 'number' | 'string' | 'bool';
interface TunableSpec<K extends Kind> {
  env: string;
  kind: K;
  default: K extends 'string' ? string : K extends 'bool' ? boolean : number;
  meaning: string;
}
type ValueOf<S> = S extends TunableSpec<infer K> ? (K extends 'string' ? string : K extends 'bool' ? boolean : number) : never;

function spec<K extends Kind>(s: TunableSpec<K>): TunableSpec<K> {
  return s;
}

export const TUNABLES = {
  healthCheckInitialDelayMs: spec({ env: 'RAYTS_HEALTH_CHECK_INITIAL_DELAY_MS', kind: 'int', default: 5000,
    meaning: 'Delay before the head first probes a newly registered raylet.' }),
  healthCheckPeriodMs: spec({ env: 'RAYTS_HEALTH_CHECK_PERIOD_MS', kind: 'int', default: 3000,
    meaning: 'Interval between two health probes of one raylet.' }),
  healthCheckTimeoutMs: spec({ env: 'RAYTS_HEALTH_CHECK_TIMEOUT_MS', kind: 'int', default: 10000,
    meaning: 'Deadline of one health probe.' }),
  healthCheckFailureThreshold: spec({ env: 'RAYTS_HEALTH_CHECK_FAILURE_THRESHOLD', kind: 'int', default: 5,
    meaning: 'Consecutive failed probes after which a node is declared DEAD.' }),
  gcsReconnectTimeoutS: spec({ env: 'RAYTS_GCS_RECONNECT_TIMEOUT_S', kind: 'number', default: 60,
    meaning: 'A raylet that cannot reach the head for this long exits (and takes its workers with it); drivers and workers wait this long for a head that is away (actor creation, named-actor lookup, placement groups, kv, the function table) before the call fails.' }),
  gcsRetryInitialBackoffMs: spec({ env: 'RAYTS_GCS_RETRY_INITIAL_BACKOFF_MS', kind: 'int', default: 100,
    meaning: 'First pause before a driver or worker calls a head that did not answer again; it doubles up to RAYTS_GCS_RETRY_MAX_BACKOFF_MS.' }),
  gcsRetryMaxBackoffMs: spec({ env: 'RAYTS_GCS_RETRY_MAX_BACKOFF_MS', kind: 'int', default: 500,
    meaning: 'Longest pause between a driver\'s or worker\'s calls to a head that does not answer (with gRPC\'s reconnect backoff, how soon after the head is back a waiting call goes through).' }),
  reportResourcesPeriodMs: spec({ env: 'RAYTS_REPORT_RESOURCES_PERIOD_MS', kind: 'int', default: 1000,
    meaning: 'How often a raylet sends its available resources to the head.' }),
  gcsRpcTimeoutMs: spec({ env: 'RAYTS_GCS_RPC_TIMEOUT_MS', kind: 'int', default: 10000,
    meaning: 'Deadline of ordinary calls to the head (status, registration, kv).' }),
  daemonStartTimeoutS: spec({ env: 'RAYTS_DAEMON_START_TIMEOUT_S', kind: 'number', default: 60,
    meaning: '`rayts start` gives up when a daemon has not answered within this time.' }),
  stopGracePeriodS: spec({ env: 'RAYTS_STOP_GRACE_PERIOD_S', kind: 'number', default: 16,
    meaning: 'Default of `rayts stop --grace-period`: SIGTERM, then SIGKILL after this many seconds.' }),
  deadNodesKept: spec({ env: 'RAYTS_DEAD_NODES_KEPT', kind: 'int', default: 1000,
    meaning: 'How many dead nodes the head keeps in its table (oldest are pruned).' }),
  exitedWorkersKept: spec({ env: 'RAYTS_EXITED_WORKERS_KEPT', kind: 'int', default: 1000,
    meaning: 'How many exited workers each raylet remembers for `rayts list workers`.' }),
  statusRecentFailures: spec({ env: 'RAYTS_STATUS_RECENT_FAILURES', kind: 'int', default: 10,
    meaning: 'How many failed nodes, and how many workers killed by memory monitors, `rayts status` lists under Recent failures.' }),
  nodeIpRouteTarget: spec({ env: 'RAYTS_NODE_IP_ROUTE_TARGET', kind: 'string', default: '8.8.8.8:80',
    meaning: 'The node IP is the source address of the route toward this public HOST:PORT (a UDP connect: no packet is sent); without such a route, the first non-internal IPv4 interface. `--node-ip-address` wins.' }),
  tmpDir: spec({ env: 'RAYTS_TMPDIR', kind: 'string', default: '/tmp/rayts',
    meaning: 'Root temp dir for sessions when --temp-dir is not given.' }),
  registryDir: spec({ env: 'RAYTS_REGISTRY_DIR', kind: 'string', default: '',
    meaning: 'Where this host lists its sessions for `rayts stop`/`status` (default <os tmp>/rayts-registry-<uid>).' }),
  clustersDir: spec({ env: 'RAYTS_CLUSTERS_DIR', kind: 'string', default: '',
    meaning: 'The machine-wide record of the clusters on this host, read by every user (default <os tmp>/rayts-clusters; mode 01777, owned by root or the only user who runs clusters). Holds addresses and owners, never tokens.' }),
  prestartWorkers: spec({ env: 'RAYTS_PRESTART_WORKERS', kind: 'int', default: -1,
    meaning: 'Idle workers a raylet starts at boot; -1 = one per CPU.' }),
  maxWorkersPerNode: spec({ env: 'RAYTS_MAX_WORKERS_PER_NODE', kind: 'int', default: 0,
    meaning: 'Most worker processes one raylet runs (0 = 4 per CPU + 4); workers blocked in get need company.' }),
  idleWorkerKillMs: spec({ env: 'RAYTS_IDLE_WORKER_KILL_MS', kind: 'int', default: 1000,
    meaning: 'Workers beyond the prestarted pool that stay idle this long are stopped.' }),
  workerExitGraceMs: spec({ env: 'RAYTS_WORKER_EXIT_GRACE_MS', kind: 'int', default: 2000,
    meaning: 'SIGTERM-to-SIGKILL grace when a raylet stops its workers.' }),
  memoryMonitorRefreshMs: spec({ env: 'RAYTS_MEMORY_MONITOR_REFRESH_MS', kind: 'int', default: 250,
    meaning: 'How often each raylet\'s memory monitor reads the node\'s memory (its cgroup\'s when that has a limit, else /proc/meminfo); 0 disables the monitor.' }),
  memoryUsageThreshold: spec({ env: 'RAYTS_MEMORY_USAGE_THRESHOLD', kind: 'number', default: 0.95,
    meaning: 'Above this fraction of the node\'s memory in use, the memory monitor kills one worker (the newest retriable task or restartable actor first) and waits for it to die before it looks again.' }),
  taskOomRetries: spec({ env: 'RAYTS_TASK_OOM_RETRIES', kind: 'int', default: 15,
    meaning: 'Retries of a task whose worker the memory monitor killed, apart from its maxRetries (-1 = no limit; a task with maxRetries 0 is not retried). Read by the owner (the driver or the worker that submitted it).' }),
  workerOomScoreAdjustment: spec({ env: 'RAYTS_WORKER_OOM_SCORE_ADJUSTMENT', kind: 'int', default: 1000,
    meaning: 'oom_score_adj given to each worker process (-1000..1000), so the kernel\'s OOM killer picks workers before the raylet; 0 leaves them alone.' }),
  workerDisconnectKillDelayMs: spec({ env: 'RAYTS_WORKER_DISCONNECT_KILL_DELAY_MS', kind: 'int', default: 1000,
    meaning: 'A worker that closed its raylet connection but has not exited this long after is killed (its exit then fails its task).' }),
  schedulerPipelineDepth: spec({ env: 'RAYTS_SCHEDULER_PIPELINE_DEPTH', kind: 'int', default: 32,
    meaning: 'Most short tasks a raylet sends to a busy worker behind its running task, so the worker never waits a round trip for its next one.' }),
  schedulerPipelineMaxAvgMs: spec({ env: 'RAYTS_SCHEDULER_PIPELINE_MAX_AVG_MS', kind: 'number', default: 2,
    meaning: 'Only functions whose runs on the node average below this many milliseconds (and never blocked in get) are pipelined.' }),
  schedulerPipelineMinRuns: spec({ env: 'RAYTS_SCHEDULER_PIPELINE_MIN_RUNS', kind: 'int', default: 5,
    meaning: 'Runs of a function a raylet must have seen before it pipelines it.' }),
  directTaskSubmission: spec({ env: 'RAYTS_DIRECT_TASK_SUBMISSION', kind: 'bool', default: true,
    meaning: 'Owners on a node lease workers from its raylet and push tasks (default strategy, no placement group) to them directly, as Ray does; false sends every task through the raylet. Read by the owner.' }),
  leaseIdleMs: spec({ env: 'RAYTS_LEASE_IDLE_MS', kind: 'int', default: 10,
    meaning: 'An owner keeps a leased worker with nothing to run this long (for its next task of the same kind) before it gives the lease back.' }),
  leaseConnectMs: spec({ env: 'RAYTS_LEASE_CONNECT_MS', kind: 'int', default: 5000,
    meaning: 'How long an owner keeps trying to connect to a worker just leased to it (the worker opens its socket on its first lease); then the worker is killed and the lease ends.' }),
  leaseRequestsPerKey: spec({ env: 'RAYTS_LEASE_REQUESTS_PER_KEY', kind: 'int', default: 10,
    meaning: 'Most lease requests an owner has waiting at its raylet for tasks of one kind (job, function, resources), as Ray\'s max_pending_lease_requests_per_scheduling_category.' }),
  leaseRejectedRelayMs: spec({ env: 'RAYTS_LEASE_REJECTED_RELAY_MS', kind: 'int', default: 1000,
    meaning: 'After the raylet declined a lease (another node should run the tasks), the owner sends tasks of that kind through the raylet for this long before it asks again.' }),
  localHelloTimeoutMs: spec({ env: 'RAYTS_LOCAL_HELLO_TIMEOUT_MS', kind: 'int', default: 10_000,
    meaning: 'A connection to the raylet\'s local socket that has not said hello within this time is closed.' }),
  memoryInfoTimeoutMs: spec({ env: 'RAYTS_MEMORY_INFO_TIMEOUT_MS', kind: 'int', default: 2000,
    meaning: 'How long a raylet waits for its drivers and workers to list their object references (`rayts memory`); silent ones are left out.' }),
  rayletUnregisterTimeoutMs: spec({ env: 'RAYTS_RAYLET_UNREGISTER_TIMEOUT_MS', kind: 'int', default: 2000,
    meaning: 'Deadline of the goodbye a stopping raylet sends the head.' }),
  gcsRegisterRetryMs: spec({ env: 'RAYTS_GCS_REGISTER_RETRY_MS', kind: 'int', default: 500,
    meaning: 'Pause between a starting raylet\'s attempts to register with a head it cannot reach yet.' }),
  logFollowPollMs: spec({ env: 'RAYTS_LOG_FOLLOW_POLL_MS', kind: 'int', default: 200,
    meaning: 'How often `rayts logs --follow` looks for new lines in a log file.' }),
  objectStoreGcRequestIntervalMs: spec({ env: 'RAYTS_OBJECT_STORE_GC_REQUEST_INTERVAL_MS', kind: 'int', default: 200,
    meaning: 'While an object store create waits for space, the raylet asks the drivers and workers that hold pins to collect garbage (so values nobody references release their pins): at most this often while requests free nothing, after a tenth of it when the last one did.' }),
  objectPullChunkBytes: spec({ env: 'RAYTS_OBJECT_PULL_CHUNK_BYTES', kind: 'int', default: 8 * 1024 * 1024,
    meaning: 'Chunk size of an object pulled between raylets over gRPC (clusters with TLS; others use the raw side channel).' }),
  authFailureLogIntervalMs: spec({ env: 'RAYTS_AUTH_FAILURE_LOG_INTERVAL_MS', kind: 'int', default: 1000,
    meaning: 'Refused (unauthenticated) calls are logged at most once per interval per peer.' }),
  grpcMaxMessageBytes: spec({ env: 'RAYTS_GRPC_MAX_MESSAGE_BYTES', kind: 'int', default: 64 * 1024 * 1024,
    meaning: 'Largest gRPC message a daemon accepts.' }),
  logLevel: spec({ env: 'RAYTS_LOG_LEVEL', kind: 'string', default: 'info',
    meaning: 'Lowest level daemons write to their .log files: debug, info, warn or error.' }),
  logToStderr: spec({ env: 'RAYTS_LOG_TO_STDERR', kind: 'bool', default: false,
    meaning: 'Daemons also write their log lines to stderr; under `rayts start --block` the supervisor passes them through (journald). Same as `rayts start --log-to-stderr`.' }),
  logMaxBytes: spec({ env: 'RAYTS_LOG_MAX_BYTES', kind: 'int', default: 512 * 1024 * 1024,
    meaning: 'A component log is rotated when it passes this size.' }),
  logBackupCount: spec({ env: 'RAYTS_LOG_BACKUP_COUNT', kind: 'int', default: 5,
    meaning: 'Rotated copies kept per component log.' }),
  objectStoreMemoryProportion: spec({ env: 'RAYTS_OBJECT_STORE_MEMORY_PROPORTION', kind: 'number', default: 0.3,
    meaning: 'Default object store size as a share of available memory.' }),
  objectStoreMinBytes: spec({ env: 'RAYTS_OBJECT_STORE_MIN_BYTES', kind: 'int', default: 75 * 1024 * 1024,
    meaning: 'Smallest object store a node accepts.' }),
  objectStoreShmShare: spec({ env: 'RAYTS_OBJECT_STORE_SHM_SHARE', kind: 'number', default: 0.95,
    meaning: 'The default store is capped at this share of free /dev/shm.' }),
  objectStoreShareWithGroup: spec({ env: 'RAYTS_OBJECT_STORE_SHARE_WITH_GROUP', kind: 'bool', default: false,
    meaning: 'The raylet keeps its object-store arena file named (mode 0660, the owner\'s group) instead of unlinking it at once, so members of the owner\'s group who hold the token can run drivers on this node. A SIGKILLed raylet then leaves the file in the shm dir until the next raylet of that user starts.' }),
  objectStoreShmDir: spec({ env: 'RAYTS_OBJECT_STORE_SHM_DIR', kind: 'string', default: '/dev/shm',
    meaning: 'The shared-memory (tmpfs) directory the object store lives in; `rayts doctor` checks its size against the store.' }),
  doctorProbeTimeoutMs: spec({ env: 'RAYTS_DOCTOR_PROBE_TIMEOUT_MS', kind: 'int', default: 1500,
    meaning: '`rayts doctor`: deadline of one TCP connect to the head or a raylet port.' }),
  doctorClockSkewWarnMs: spec({ env: 'RAYTS_DOCTOR_CLOCK_SKEW_WARN_MS', kind: 'int', default: 500,
    meaning: '`rayts doctor`: a clock further than this from the head\'s is a warning (timestamps in logs and events disagree).' }),
  doctorClockSkewFailMs: spec({ env: 'RAYTS_DOCTOR_CLOCK_SKEW_FAIL_MS', kind: 'int', default: 10000,
    meaning: '`rayts doctor`: a clock further than this from the head\'s fails.' }),
  doctorMinOpenFiles: spec({ env: 'RAYTS_DOCTOR_MIN_OPEN_FILES', kind: 'int', default: 65536,
    meaning: '`rayts doctor`: a soft `ulimit -n` below this is a warning (every worker and connection holds descriptors).' }),
  doctorMinSpillFreeBytes: spec({ env: 'RAYTS_DOCTOR_MIN_SPILL_FREE_BYTES', kind: 'int', default: 1024 * 1024 * 1024,
    meaning: '`rayts doctor`: less free disk than this under the spill dir fails (less than the object store size warns).' }),
  nvidiaSmiPath: spec({ env: 'RAYTS_NVIDIA_SMI', kind: 'string', default: 'nvidia-smi',
    meaning: 'The nvidia-smi a raylet runs to find its GPUs (ids, names, memory) when --num-gpus is not given.' }),
  gpuDetectTimeoutMs: spec({ env: 'RAYTS_GPU_DETECT_TIMEOUT_MS', kind: 'int', default: 10000,
    meaning: 'How long nvidia-smi may take before the raylet falls back to the other GPU heuristics.' }),
  objectSpillingThreshold: spec({ env: 'RAYTS_OBJECT_SPILLING_THRESHOLD', kind: 'number', default: 0.8,
    meaning: 'Spill once primary copies held only in memory pass this share of the object store.' }),
  objectSpillingMinBytes: spec({ env: 'RAYTS_OBJECT_SPILLING_MIN_BYTES', kind: 'int', default: 0,
    meaning: 'Size a fused spill file aims for (0 = min(100 MiB, a tenth of the store)).' }),
  objectSpillingMaxFusedObjects: spec({ env: 'RAYTS_OBJECT_SPILLING_MAX_FUSED_OBJECTS', kind: 'int', default: 2000,
    meaning: 'Most objects in one spill file.' }),
  localFsCapacityThreshold: spec({ env: 'RAYTS_LOCAL_FS_CAPACITY_THRESHOLD', kind: 'number', default: 0.95,
    meaning: 'Spilling fails with OutOfDiskError above this disk use of the spill directory (1 = off).' }),
  objectStoreFullTimeoutMs: spec({ env: 'RAYTS_OBJECT_STORE_FULL_TIMEOUT_MS', kind: 'int', default: 3000,
    meaning: 'How long a create or restore waits for space before ObjectStoreFullError.' }),
  objectStorePrefault: spec({ env: 'RAYTS_OBJECT_STORE_PREFAULT', kind: 'bool', default: true,
    meaning: 'Reserve the whole arena in a background thread at raylet start (a first-touch fault costs ~30x a memcpy here).' }),
  objectStoreHugePages: spec({ env: 'RAYTS_OBJECT_STORE_HUGE_PAGES', kind: 'string', default: 'auto',
    meaning: 'What backs the object store (`rayts start --object-store-huge-pages`): auto = reserved 2 MiB huge pages (vm.nr_hugepages) when enough are free, else transparent huge pages of /dev/shm when shmem_enabled allows them, else 4 KiB pages; on = a huge-page mode or the raylet does not start; off = 4 KiB pages.' }),
  workerMallocHugePages: spec({ env: 'RAYTS_WORKER_MALLOC_HUGE_PAGES', kind: 'bool', default: true,
    meaning: 'Workers start with GLIBC_TUNABLES=glibc.malloc.hugetlb=2 (reserved huge pages are left after the object store took its own) or =1 (transparent huge pages, where enabled = madvise or always), so their large buffers (a fresh 80 MiB typed array) take a first touch per 2 MiB instead of per 4 KiB.' }),
  maxInlineObjectBytes: spec({ env: 'RAYTS_MAX_INLINE_OBJECT_BYTES', kind: 'int', default: 100 * 1024,
    meaning: 'Values up to this size travel inline and live in the owner; larger ones go to the object store.' }),
  gcsSynchronous: spec({ env: 'RAYTS_GCS_SYNCHRONOUS', kind: 'string', default: 'normal',
    meaning: 'SQLite durability of the head\'s state: normal (survives a head crash; a power cut may lose the last changes) or full (an fsync per change).' }),
  deadActorsKept: spec({ env: 'RAYTS_DEAD_ACTORS_KEPT', kind: 'int', default: 1000,
    meaning: 'How many dead actors the head keeps in its table for lookups (oldest are pruned).' }),
  actorPoolRefillDelayMs: spec({ env: 'RAYTS_ACTOR_POOL_REFILL_DELAY_MS', kind: 'int', default: 100,
    meaning: 'After an actor takes an idle worker, wait this long before starting its replacement in the pool, so the fork and the new process\'s start-up (about 0.4 s of a CPU here) do not slow the new actor\'s first calls.' }),
  actorReservationTimeoutMs: spec({ env: 'RAYTS_ACTOR_RESERVATION_TIMEOUT_MS', kind: 'int', default: 60_000,
    meaning: 'An actor a raylet started for a creator on its node before the head placed it is dropped if the head has not confirmed it within this time.' }),
  actorScheduleRetryMs: spec({ env: 'RAYTS_ACTOR_SCHEDULE_RETRY_MS', kind: 'int', default: 500,
    meaning: 'How often the head tries again to place actors no node can host yet (and after a failed creation call).' }),
  stateDiskFullRetryMs: spec({ env: 'RAYTS_STATE_DISK_FULL_RETRY_MS', kind: 'int', default: 1000,
    meaning: 'How often the head tries again a change of its own (a node declared dead, an actor moved to another state, a placement group or job updated) that it could not write because the disk under its state dir is full.' }),
  stateDiskFullLogIntervalMs: spec({ env: 'RAYTS_STATE_DISK_FULL_LOG_INTERVAL_MS', kind: 'int', default: 30_000,
    meaning: 'The head logs that the disk under its state dir is full at most once per this interval (and once more when it writes again).' }),
  schedulerSpreadThreshold: spec({ env: 'RAYTS_SCHEDULER_SPREAD_THRESHOLD', kind: 'number', default: 0.5,
    meaning: 'DEFAULT (hybrid) scheduling keeps work on a node while its most used requested resource stays at or below this share, then spreads (Ray\'s scheduler_spread_threshold).' }),
  portFirstBytesTimeoutMs: spec({ env: 'RAYTS_PORT_FIRST_BYTES_TIMEOUT_MS', kind: 'int', default: 10_000,
    meaning: 'A connection to a raylet\'s port that sends nothing for this long is closed (before gRPC or the object side channel sees it); so is an object-transfer request not complete by then.' }),
  placementGroupWaitChunkMs: spec({ env: 'RAYTS_PLACEMENT_GROUP_WAIT_CHUNK_MS', kind: 'int', default: 30_000,
    meaning: 'Longest single long-poll of `pg.ready()`/`pg.wait()` on the head; longer waits poll again.' }),
  actorWatchWaitMs: spec({ env: 'RAYTS_ACTOR_WATCH_WAIT_MS', kind: 'int', default: 30_000,
    meaning: 'How long one long-poll of a caller on the head\'s actor record may wait (calls wait for a restarting actor this way).' }),
  actorWatchRetryMs: spec({ env: 'RAYTS_ACTOR_WATCH_RETRY_MS', kind: 'int', default: 200,
    meaning: 'A caller following an actor whose head does not answer (it is restarting) asks again after this delay.' }),
  actorLostCallWaitMs: spec({ env: 'RAYTS_ACTOR_LOST_CALL_WAIT_MS', kind: 'int', default: 3000,
    meaning: 'A call that failed because its actor died, and may not be retried, waits this long for the head to say why before it fails anyway.' }),
  actorEarlyConnectMs: spec({ env: 'RAYTS_ACTOR_EARLY_CONNECT_MS', kind: 'int', default: 200,
    meaning: 'How long a creator keeps trying to connect to the socket of an actor its raylet is still starting (it listens within a few ms).' }),
  actorLocalStartRegisterWaitMs: spec({ env: 'RAYTS_ACTOR_LOCAL_START_REGISTER_WAIT_MS', kind: 'int', default: 50,
    meaning: 'The registration of an unnamed actor started on its creator\'s node waits up to this long for its constructor, so the registration\'s work does not compete with the construction.' }),
  recordRefCreationSites: spec({ env: 'RAYTS_RECORD_REF_CREATION_SITES', kind: 'bool', default: false,
    meaning: 'Record where each ObjectRef was made (put, task call) as file:line for the Call Site column of `rayts memory`; read by each driver and worker from its own environment (set it for the driver and for `rayts start`). Costs a stack capture per ref.' }),
  placementGroupRetryMinMs: spec({ env: 'RAYTS_PLACEMENT_GROUP_RETRY_MIN_MS', kind: 'int', default: 100,
    meaning: 'First delay before the head tries again to place a placement group that did not fit (Ray: 100 ms).' }),
  placementGroupRetryMaxMs: spec({ env: 'RAYTS_PLACEMENT_GROUP_RETRY_MAX_MS', kind: 'int', default: 1000,
    meaning: 'Longest delay between two placement attempts of a pending placement group (Ray: 1 s).' }),
  placementGroupRetryMultiplier: spec({ env: 'RAYTS_PLACEMENT_GROUP_RETRY_MULTIPLIER', kind: 'number', default: 1.5,
    meaning: 'Growth of the delay between placement attempts of a pending placement group (Ray: 1.5).' }),
  placementGroupCreateReplyWaitMs: spec({ env: 'RAYTS_PLACEMENT_GROUP_CREATE_REPLY_WAIT_MS', kind: 'int', default: 200,
    meaning: 'A create call waits this long for its group to be placed before it answers PENDING (most groups fit at once, and the answer then spares ready() a round trip).' }),
  longPollMaxWaitMs: spec({ env: 'RAYTS_LONG_POLL_MAX_WAIT_MS', kind: 'int', default: 60_000,
    meaning: 'Longest the head holds a GetActor or GetPlacementGroup long poll open (the caller asks again after).' }),
  removedPlacementGroupsKept: spec({ env: 'RAYTS_REMOVED_PLACEMENT_GROUPS_KEPT', kind: 'int', default: 1000,
    meaning: 'How many removed placement groups the head keeps in its table (oldest are pruned).' }),
  dashboardBodyLimitBytes: spec({ env: 'RAYTS_DASHBOARD_BODY_LIMIT_BYTES', kind: 'int', default: 1024 * 1024,
    meaning: 'Largest request body the head\'s HTTP API accepts; a larger one is refused with 413 before it is read or parsed (the login route takes at most 1 KiB).' }),
  dashboardSessionTtlS: spec({ env: 'RAYTS_DASHBOARD_SESSION_TTL_S', kind: 'int', default: 12 * 3600,
    meaning: 'How long the session cookie that `POST /api/login` sets stays valid (it is signed, never the token itself).' }),
  dashboardHistoryIntervalMs: spec({ env: 'RAYTS_DASHBOARD_HISTORY_INTERVAL_MS', kind: 'int', default: 5000,
    meaning: 'How often the head samples the cluster\'s resource use (CPU, GPU, memory, object store) for the web page\'s charts (`GET /api/v0/history`).' }),
  dashboardHistorySamples: spec({ env: 'RAYTS_DASHBOARD_HISTORY_SAMPLES', kind: 'int', default: 720,
    meaning: 'How many resource samples the head keeps in memory for the web page\'s charts (720 at 5 s = the last hour); the oldest are dropped.' }),
  apiRequestTimeoutMs: spec({ env: 'RAYTS_API_REQUEST_TIMEOUT_MS', kind: 'int', default: 30_000,
    meaning: 'Deadline of one CLI request to the head\'s HTTP API (`rayts list`, `rayts job`, …).' }),
  taskEventsEnabled: spec({ env: 'RAYTS_TASK_EVENTS_ENABLED', kind: 'bool', default: true,
    meaning: 'Drivers and workers report the state changes of every task attempt to the head (Ray\'s task events, for `rayts list tasks`, the dashboard and `rayts logs task`); read by each process from its own environment, so set it for `rayts start` and the driver alike.' }),
  taskEventsReportIntervalMs: spec({ env: 'RAYTS_TASK_EVENTS_REPORT_INTERVAL_MS', kind: 'int', default: 1000,
    meaning: 'How often a driver or worker sends its buffered task events to the head (Ray\'s task_events_report_interval_ms).' }),
  taskEventsBufferMaxEvents: spec({ env: 'RAYTS_TASK_EVENTS_BUFFER_MAX_EVENTS', kind: 'int', default: 100_000,
    meaning: 'Most task events a driver or worker holds between two reports; beyond it the oldest are dropped and counted (shown by the head as dropped at workers).' }),
  taskEventsFlushTimeoutMs: spec({ env: 'RAYTS_TASK_EVENTS_FLUSH_TIMEOUT_MS', kind: 'int', default: 1000,
    meaning: 'At `shutdown()` and when a worker stops, how long it waits for its last task events to reach the head.' }),
  taskEventsMaxStored: spec({ env: 'RAYTS_TASK_EVENTS_MAX_STORED', kind: 'int', default: 100_000,
    meaning: 'Most task attempts the head keeps in memory (Ray\'s task_events_max_num_task_in_gcs); beyond it finished attempts are evicted oldest first, then the oldest of any kind, and counted. The head reserves about 180 bytes per attempt at start (typed columns, task ids included, and their index), and up to ~80 more per stored attempt.' }),
  jobPackageMaxBytes: spec({ env: 'RAYTS_JOB_PACKAGE_MAX_BYTES', kind: 'int', default: 512 * 1024 * 1024,
    meaning: 'Largest working_dir package (the packed .tar.gz) the head accepts from `rayts job submit` or `init({ runtimeEnv })`; a larger upload is refused with 413 naming this limit.' }),
  jobPackageChunkBytes: spec({ env: 'RAYTS_JOB_PACKAGE_CHUNK_BYTES', kind: 'int', default: 1024 * 1024,
    meaning: 'Chunk size of working_dir packages streamed over gRPC (driver uploads, raylet downloads).' }),
  jobPackageUnusedTtlS: spec({ env: 'RAYTS_JOB_PACKAGE_UNUSED_TTL_S', kind: 'int', default: 3600,
    meaning: 'An uploaded package that no job record refers to is deleted from the head after this long (packages of job records stay until the records are deleted).' }),
  jobStopGraceMs: spec({ env: 'RAYTS_JOB_STOP_GRACE_MS', kind: 'int', default: 3000,
    meaning: '`rayts job stop`: SIGTERM to the driver\'s process group, then SIGKILL after this long (Ray\'s RAY_JOB_STOP_WAIT_TIME_S).' }),
  jobsKept: spec({ env: 'RAYTS_JOBS_KEPT', kind: 'int', default: 10_000,
    meaning: 'Most finished submitted jobs the head keeps (oldest terminal records and their packages are pruned first).' }),
  jobRuntimeEnvSetupTimeoutS: spec({ env: 'RAYTS_JOB_RUNTIME_ENV_SETUP_TIMEOUT_S', kind: 'int', default: 600,
    meaning: 'How long a node may take to fetch, unpack and `npm ci` a job\'s working_dir before the job fails (Ray\'s runtime env setup timeout).' }),
  clientReconnectGraceS: spec({ env: 'RAYTS_CLIENT_RECONNECT_GRACE_S', kind: 'number', default: 30,
    meaning: 'A remote client (`rayts://`) whose connection broke may reconnect and resume its session within this long; after it the head ends the session: its non-detached actors are killed, its objects and CPUs released (Ray\'s reconnect_grace_period).' }),
  clientWindowBytes: spec({ env: 'RAYTS_CLIENT_WINDOW_BYTES', kind: 'int', default: 16 * 1024 * 1024,
    meaning: 'Remote clients: most bytes one end of a session sends before the other acknowledges them (flow control; each end keeps this much for resending after a reconnection).' }),
  clientChunkBytes: spec({ env: 'RAYTS_CLIENT_CHUNK_BYTES', kind: 'int', default: 1024 * 1024,
    meaning: 'Remote clients: the chunk size of objects streamed by `put` and `get`.' }),
  clientHeartbeatMs: spec({ env: 'RAYTS_CLIENT_HEARTBEAT_MS', kind: 'int', default: 5000,
    meaning: 'Remote clients: both ends of a session send a heartbeat this often.' }),
  clientDeadAfterMs: spec({ env: 'RAYTS_CLIENT_DEAD_AFTER_MS', kind: 'int', default: 20000,
    meaning: 'Remote clients: a connection that brings nothing (not even a heartbeat) for this long is taken as broken, and the client reconnects.' }),
  testingProtocolVersion: spec({ env: 'RAYTS_TESTING_PROTOCOL_VERSION', kind: 'int', default: 0,
    meaning: 'Testing only: pretend to speak this protocol version (0 = the real one).' }),
} as const;

export type TunableName = keyof typeof TUNABLES;
export type Config = { readonly [N in TunableName]: ValueOf<(typeof TUNABLES)[N]> };

/** 1/true/yes/on and 0/false/no/off, in any case; undefined for anything else. */
export function parseBooleanWord(raw: string): boolean | undefined {
  if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
  if (/^(0|false|no|off)$/i.test(raw.trim())) return false;
  return undefined;
}

/** 1/0, true/false, yes/no, on/off (any case); anything else is a UsageError naming `what` (a flag or variable). */
export function parseBoolean(raw: string, what: string): boolean {
  const value = parseBooleanWord(raw);
  if (value === undefined) throw new UsageError(`${what}=${raw} is not a boolean`, 'use true/false (or 1/0, yes/no, on/off)');
  return value;
}

/** A boolean command-line flag (`--metrics-auth=false`); a config file may give a real boolean. */
export function parseBooleanFlag(raw: string | boolean, flag: string): boolean {
  const value = typeof raw === 'boolean' ? raw : parseBooleanWord(raw);
  if (value === undefined) throw new UsageError(`${flag} must be true or false, got '${String(raw)}'`, `for example ${flag}=false`);
  return value;
}

function parseValue(name: string, kind: Kind, raw: string): number | string | boolean {
  switch (kind) {
    case 'string':
      return raw;
    case 'bool':
      return parseBoolean(raw, name);
    default: {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n))) {
        throw new UsageError(`${name}=${raw} is not ${kind === 'int' ? 'an integer' : 'a number'}`);
      }
      return n;
    }
  }
}

/**
 * Resolves every tunable: `overrides` (flags or a config file) win over the environment, which wins
 * over the defaults.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<TunableName, unknown>> = {}): Config {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(TUNABLES) as [TunableName, TunableSpec<Kind>][]) {
    const raw = env[s.env];
    out[name] = overrides[name] ?? (raw !== undefined && raw !== '' ? parseValue(s.env, s.kind, raw) : s.default);
  }
  return Object.freeze(out) as Config;
}

/** The table as rows, for docs and `rayts doctor`. */
export function describeTunables(): { name: string; env: string; default: string; meaning: string }[] {
  return Object.entries(TUNABLES).map(([name, s]) => ({ name, env: s.env, default: String(s.default), meaning: s.meaning }));
}
