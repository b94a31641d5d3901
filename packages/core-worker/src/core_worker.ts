/**
 * The runtime inside every driver and worker process: it submits tasks through the local raylet,
 * owns the objects it creates (their values or locations live in its memory store), and fetches
 * values for `get`/`wait`. Workers additionally run the tasks and the actor they are sent.
 *
 * `CoreWorker` is a facade over its parts; `CoreWorker.connect` builds them bottom-up (connection,
 * stores, submitters, serializer, getter, worker side), then the facade, and starts the raylet
 * connection's inbox last, so every part exists before the first pushed message is delivered.
 */
import { basename } from 'node:path';
import { GcsClient, TaskEventClient, headPatience, loadConfig, tlsFromEnv, type Config, type TlsFiles } from '@rayts/common';
import { ActorSubmitter } from './actor/actor_submitter.js';
import { ActorHost } from './actor/actor_host.js';
import { openCallCountsFile } from './actor/call_counts.js';
import { AttemptRecorder } from './attempt_recorder.js';
import { CallSiteRecorder } from './call_site.js';
import { FunctionExporter } from './function_exporter.js';
import { newPutId, newTaskId } from './ids.js';
import { JobContext } from './job_context.js';
import { GpuVisibility } from './gpu_visibility.js';
import { MemoryStore } from './memory_store.js';
import { NOT_BLOCKING, ObjectGetter } from './object_getter.js';
import { ObjectRef } from './object_ref.js';
import { OutputOffsets, processFileSizes } from './output_offsets.js';
import { PlasmaClient } from './plasma_client.js';
import { MappedArena, type ObjectBytes } from './object_bytes.js';
import { RayletConnection, type MessageLink, type RayletTransport } from './raylet_connection.js';
import { CoreWorkerInbox, type WorkerSide } from './raylet_inbox.js';
import { ReferenceTable } from './reference_table.js';
import { Serializer } from './serialization.js';
import { TaskArgs } from './task_args.js';
import { TaskExecutor, type Compile } from './task_executor.js';
import { TaskManager, type TaskRecord } from './task_manager.js';
import { DirectTaskSubmitter } from './direct/direct_submitter.js';
import { LeaseServer } from './direct/lease_server.js';
import { dialWorker } from './caller_socket.js';
import { Lineage } from './lineage.js';
import { loadNative } from '@rayts/object-store';
import { ObjectReleaser } from './object_releaser.js';
import { TaskEventBuffer } from './task_event_buffer.js';
import { taskInfo, type ExecutorIdentity } from './event_report.js';
import type { ActorCore } from './actor/actor_core.js';
import type { RemoteFunctionDescriptor } from './function/descriptor.js';
import type { TaskOptions } from './task_options.js';
import type {
  Address, ClientHello, ClientMessage, Execute, LeaseWorkerMessage, RayletMessage, RefInfo, ReplyTo, RequestBody, RequestType, TaskArg, TaskOutcome, Welcome,
} from './protocol/messages.js';

export interface CoreWorkerOptions {
  socketPath: string;
  token: string;
  gcsAddress: string;
  role: 'driver' | 'worker';
  jobId?: string;
  workerId?: string;
  jobDir?: string;
  /** A driver's job runtime env as registered with the head (resolved JSON, '' for none). */
  runtimeEnvJson?: string;
  /** The cluster's mutual TLS for calls to the head (default: RAYTS_TLS_*, which workers inherit from their raylet). */
  tls?: TlsFiles;
  /**
   * A remote client (`rayts://`): its messages to the head node's raylet and its object bytes go
   * through the head (remote/tunnel_client.ts) instead of `socketPath` and the mapped arena.
   */
  remote?: RemoteNodeAccess;
}

/** How a process off the cluster reaches a node: the raylet's messages, and object bytes. */
export interface RemoteNodeAccess {
  link: MessageLink<RayletMessage, ClientMessage>;
  objects: ObjectBytes;
}

/** What a worker process adds: how shipped code is compiled, and what to do when its node goes. */
export interface WorkerOptions {
  compile: Compile;
  onDisconnect(err?: Error): void;
}

/**
 * The options as the parts read them: the head's RPC timeout comes from the tunables, and the job
 * is left out (it changes per task in a worker: read `jobId`/`jobDir` of the core worker).
 */
export type ResolvedOptions = Readonly<Omit<CoreWorkerOptions, 'jobId' | 'jobDir' | 'remote'>> & { readonly gcsTimeoutMs: number };

export interface CoreWorkerParts {
  options: ResolvedOptions;
  connection: RayletConnection;
  gcs: GcsClient;
  store: MemoryStore;
  job: JobContext;
  references: ReferenceTable;
  plasma: PlasmaClient;
  functions: FunctionExporter;
  args: TaskArgs;
  tasks: TaskManager;
  /** Tasks pushed to leased workers (absent: all go through the raylet). */
  direct: DirectTaskSubmitter | undefined;
  actors: ActorSubmitter;
  serializer: Serializer;
  objects: ObjectGetter;
  /** Task events of what this process owns and runs. */
  events: TaskEventBuffer;
  /** The GPUs the running task or actor holds (none in a driver). */
  gpus: GpuVisibility;
}

export class CoreWorker {
  readonly options: ResolvedOptions;
  readonly gcs: GcsClient;
  readonly store: MemoryStore;
  /** Actor creation and calls. */
  readonly actors: ActorSubmitter;
  /** Decodes values with their refs and actor handles bound to this runtime. */
  readonly serializer: Serializer;
  readonly welcome: Welcome;
  readonly address: Address;

  constructor(private readonly parts: CoreWorkerParts) {
    this.options = parts.options;
    this.gcs = parts.gcs;
    this.store = parts.store;
    this.actors = parts.actors;
    this.serializer = parts.serializer;
    this.welcome = parts.connection.welcome;
    this.address = { nodeId: this.welcome.nodeId, clientId: this.welcome.clientId };
  }

  /** Connects to the raylet and builds the parts; `worker` for a worker process. */
  static async connect(options: CoreWorkerOptions, worker?: WorkerOptions, config: Config = loadConfig()): Promise<CoreWorker> {
    const { remote, ...rest } = options;
    const resolved: ResolvedOptions = { ...rest, tls: options.tls ?? tlsFromEnv(), gcsTimeoutMs: config.gcsRpcTimeoutMs };
    const connection = await RayletConnection.open(remote?.link ?? options.socketPath, helloOf(options));
    const { welcome } = connection;
    const owner: Address = { nodeId: welcome.nodeId, clientId: welcome.clientId };
    // Calls to the head wait for a head that restarts (up to RAYTS_GCS_RECONNECT_TIMEOUT_S): the
    // function table, kv, placement groups; the actor submitter's client does the same.
    const gcs = new GcsClient(options.gcsAddress, { token: options.token, tls: resolved.tls, timeoutMs: resolved.gcsTimeoutMs, patience: headPatience(options.gcsAddress, config) });
    // A worker's output files: their ends, for the log range of each attempt it runs.
    const offsets = worker ? new OutputOffsets(processFileSizes) : undefined;
    const events = new TaskEventBuffer(new TaskEventClient(options.gcsAddress, { token: options.token, tls: resolved.tls, timeoutMs: resolved.gcsTimeoutMs }), config,
      executorIdentity(options, welcome, offsets));
    const store = new MemoryStore();
    const job = new JobContext(options.jobId ?? '', options.jobDir, '', options.role === 'driver' ? newTaskId() : '');
    const gpus = new GpuVisibility(process.env);
    const lineage = new Lineage<TaskRecord>();
    const releaser = new ObjectReleaser({ store, lineage, transport: connection, allocator: remote ? undefined : loadNative() });
    const references = new ReferenceTable(store, new CallSiteRecorder(config.recordRefCreationSites), owner, releaser);
    const plasma = new PlasmaClient({ transport: connection, welcome, owner, references, bytes: remote?.objects ?? new MappedArena(welcome) });
    const functions = new FunctionExporter(gcs);
    const args = new TaskArgs({ store, plasma, references });
    // Tasks go to workers leased from the node's raylet; a remote client reaches no worker's socket.
    const direct = remote || !config.directTaskSubmission ? undefined : directSubmitter(config, connection, resolved.token, welcome.nodeId, (outcome) => tasks.handleOutcome(outcome));
    const tasks = new TaskManager({
      transport: direct ?? connection, store, references, lineage, releaser, functions, args, job, owner, events, taskOomRetries: config.taskOomRetries,
    });
    // A remote client reaches no worker's socket: its actor calls all go through the raylet.
    const actors = new ActorSubmitter(actorCore(resolved, owner, remote ? '' : owner.nodeId, job, store, references, connection, functions, args, events), config);
    const serializer = new Serializer((data) => actors.bindData(data), references);
    const attempts = offsets && new AttemptRecorder({ events, offsets, workerId: options.workerId ?? '' });
    const side = worker && attempts && workerSide(worker, resolved.token, connection, gcs, plasma, serializer, job, gpus, welcome, attempts);
    const objects = new ObjectGetter({
      store, transport: connection, plasma, decoder: serializer, lineage: tasks, references, releaser, blocking: side?.executor ?? NOT_BLOCKING,
    });
    const core = new CoreWorker({ options: resolved, connection, gcs, store, job, references, plasma, functions, args, tasks, direct, actors, serializer, objects, events, gpus });
    if (options.role === 'driver') {
      // Ray's driver task: the parent of what the driver submits, RUNNING until shutdown.
      const entry = basename(process.argv[1] ?? 'driver');
      events.executing(job.driverTaskId, 0, job.jobId, 'RUNNING', Date.now(), -1, -1, taskInfo('DRIVER_TASK', 'driver', entry, ''));
    }
    // Task code finds its worker's runtime through `import('rayts')`, from the first task on.
    if (worker) setGlobalWorker(core);
    connection.start(new CoreWorkerInbox({
      transport: connection, tasks, direct, actors, objects, references, worker: side, onDisconnect: worker?.onDisconnect,
    }));
    return core;
  }

  get jobId(): string {
    return this.parts.job.jobId;
  }

  /** Where the job's code resolves its imports. */
  get jobDir(): string | undefined {
    return this.parts.job.jobDir;
  }

  /** The node of the driver whose job this process works for ('' in a driver). */
  get driverNodeId(): string {
    return this.parts.job.driverNodeId;
  }

  /** The task running in this process now ('' if none). */
  get taskId(): string {
    return this.parts.job.taskId;
  }

  /** The actor this process hosts ('' if none). */
  get actorId(): string {
    return this.parts.job.actorId;
  }

  /** The GPU instance ids of this node the running task or actor holds ([] if none, and in a driver). */
  get gpuIds(): number[] {
    return this.parts.gpus.ids;
  }

  get nodeIp(): string {
    return this.welcome.nodeIp;
  }

  send(message: ClientMessage): void {
    this.parts.connection.send(message);
  }

  request<K extends RequestType>(message: RequestBody<K>): Promise<ReplyTo<K>> {
    return this.parts.connection.request(message);
  }

  /** Stores the function's source in the GCS function table once (per process and hash). */
  exportFunction(desc: RemoteFunctionDescriptor): Promise<void> {
    return this.parts.functions.exportFunction(desc);
  }

  submitTask(desc: RemoteFunctionDescriptor, args: unknown[], options: TaskOptions, depth = 0): ObjectRef {
    return this.parts.tasks.submitTask(desc, args, options, depth);
  }

  inlineArgs(args: unknown[], name: string): TaskArg[] | undefined {
    return this.parts.args.inlineArgs(args, name);
  }

  resolveArg(arg: unknown, index: number, taskName: string): Promise<TaskArg> {
    return this.parts.args.resolveArg(arg, index, taskName);
  }

  /** Cancels the task that makes `ref` (no effect once it finished). */
  cancel(ref: ObjectRef, force: boolean): void {
    this.parts.tasks.cancel(ref, force);
  }

  async put(value: unknown): Promise<ObjectRef> {
    const id = newPutId();
    // Made (and its call site recorded) now; released like any ref once collected.
    const ref = this.parts.references.created(new ObjectRef(id, this.address));
    const stored = await this.parts.plasma.storeValue(id, value, 'the value given to put');
    this.store.resolve(id, { status: 'ready', value: stored.kind === 'inline' ? { kind: 'inline', data: stored.data } : { kind: 'plasma', nodeId: stored.nodeId, size: stored.size } });
    return ref;
  }

  /** Values of the refs, in order; rejects with the first failure or GetTimeoutError. */
  get(refs: ObjectRef[], timeoutMs?: number): Promise<unknown[]> {
    return this.parts.objects.get(refs, timeoutMs);
  }

  wait(refs: ObjectRef[], numReturns: number, timeoutMs?: number): Promise<[ObjectRef[], ObjectRef[]]> {
    return this.parts.objects.wait(refs, numReturns, timeoutMs);
  }

  /** Releases objects now: their entries here and their copies in the stores (primary and spilled). */
  free(refs: ObjectRef[]): Promise<void> {
    return this.parts.objects.free(refs);
  }

  /** This process's object references, classified as `ray memory` does. */
  refsInfo(): RefInfo[] {
    return this.parts.references.refsInfo((id) => this.parts.tasks.attemptOf(id));
  }

  /**
   * Before the job ends (driver `shutdown()`) or the worker exits: a driver's task is FINISHED, and the
   * buffered task events go to the head (waiting at most RAYTS_TASK_EVENTS_FLUSH_TIMEOUT_MS).
   */
  async finishTaskEvents(): Promise<void> {
    const { events, job } = this.parts;
    if (this.options.role === 'driver') events.ended(job.driverTaskId, 0, job.jobId, 'FINISHED', Date.now(), -1, -1);
    await events.close();
  }

  close(): void {
    this.parts.events.stop();
    this.parts.direct?.close();
    this.actors.close();
    this.parts.connection.close();
    this.parts.plasma.close();
    this.gcs.close();
  }
}

/**
 * The runtime of this process as the public API finds it when nothing was passed in: a worker's own
 * (`import('rayts')` inside a task gives the API, whose calls use it), or the driver's after `init`.
 * Nothing inside the core worker reads it: its parts are wired through their constructors, and
 * actor handles call through the runtime that made or decoded them.
 */
let processRuntime: CoreWorker | undefined;

export function setGlobalWorker(worker: CoreWorker | undefined): void {
  processRuntime = worker;
}

export function globalWorker(): CoreWorker | undefined {
  return processRuntime;
}

function helloOf(options: CoreWorkerOptions): ClientHello {
  return options.role === 'driver'
    ? { type: 'hello', role: 'driver', token: options.token, jobId: options.jobId ?? '', pid: process.pid, jobDir: options.jobDir ?? process.cwd(),
      runtimeEnvJson: options.runtimeEnvJson ?? '' }
    : { type: 'hello', role: 'worker', token: options.token, workerId: options.workerId ?? '', pid: process.pid };
}

/** This process as the executor of what it runs: a worker's id and output files, or a driver's client id. */
function executorIdentity(options: CoreWorkerOptions, welcome: Welcome, offsets: OutputOffsets | undefined): ExecutorIdentity {
  const workerId = options.role === 'worker' ? options.workerId ?? '' : welcome.clientId;
  return { nodeId: welcome.nodeId, workerId, pid: process.pid, logsToFiles: !!offsets && (offsets.stdout >= 0 || offsets.stderr >= 0) };
}

/** What the actor caller uses, read from the parts when it uses it (the job changes per task in a worker). */
function actorCore(
  options: ResolvedOptions, address: Address, localNodeId: string, job: JobContext, store: MemoryStore, references: ReferenceTable, transport: RayletTransport,
  functions: FunctionExporter, args: TaskArgs, events: TaskEventBuffer,
): ActorCore {
  return {
    address, localNodeId, options, store, references, events,
    get jobId() { return job.jobId; },
    get driverNodeId() { return job.driverNodeId; },
    get submitterTaskId() { return job.submitterTaskId; },
    request: (message) => transport.request(message),
    send: (message) => transport.send(message),
    exportFunction: (desc) => functions.exportFunction(desc),
    inlineArgs: (a, name) => args.inlineArgs(a, name),
    resolveArg: (arg, index, name) => args.resolveArg(arg, index, name),
  };
}

/** A worker's executor (which also keeps its blocked state) and the actor host built on it. */
function workerSide(
  worker: WorkerOptions, token: string, connection: RayletConnection, functionTable: Pick<GcsClient, 'kvGet'>, plasma: PlasmaClient, serializer: Serializer, job: JobContext, gpus: GpuVisibility, welcome: Welcome,
  attempts: AttemptRecorder,
): WorkerSide & { executor: TaskExecutor } {
  const node = { nodeId: welcome.nodeId, nodeIp: welcome.nodeIp };
  const executor = new TaskExecutor({ transport: connection, functionTable, plasma, decoder: serializer, job, gpus, node, compile: worker.compile, attempts });
  const shm = loadNative();
  const openCounter = (path: string) => openCallCountsFile(path, shm);
  const host = new ActorHost({ transport: connection, executor, job, gpus, nodeId: node.nodeId, token, attempts, openCallCounter: openCounter });
  const leases = new LeaseServer({ executor, token, openCounter, warn: (message) => process.stderr.write(`${message}\n`) });
  return { executor, host, leases, bindJob: (m) => job.bindJob(m, process) };
}

/** The owner's direct transport: leases from the raylet on `connection`, tasks over each leased worker's socket. */
function directSubmitter(config: Config, connection: RayletConnection, token: string, nodeId: string, handleOutcome: (outcome: TaskOutcome) => void): DirectTaskSubmitter {
  return new DirectTaskSubmitter({
    raylet: connection, nodeId, outcomes: { handleOutcome },
    limits: {
      pipeline: { depth: config.schedulerPipelineDepth, maxAvgMs: config.schedulerPipelineMaxAvgMs, minRuns: config.schedulerPipelineMinRuns },
      idleMs: config.leaseIdleMs, requestsPerKey: Math.max(1, config.leaseRequestsPerKey), rejectedRelayMs: config.leaseRejectedRelayMs,
    },
    dial: async (socketPath, events) => {
      const conn = await dialWorker<LeaseWorkerMessage, Execute>(socketPath, token, config.leaseConnectMs);
      conn.on('message', (m) => events.message(m));
      conn.on('close', () => events.closed());
      return conn;
    },
  });
}
