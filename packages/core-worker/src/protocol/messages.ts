/**
 * Messages on a node's local data plane (FramedConnection over `<session>/sockets/raylet.sock`)
 * between the raylet and its clients: drivers and workers. Values travel already encoded (the value
 * codec); the raylet routes them without decoding.
 */

export type ResourceShape = Record<string, number>;

import type { ActorSpecMsg, SchedulingStrategy } from '@rayts/common';
import type { PageMode } from '@rayts/object-store';
export type { SchedulingStrategy };

/** Where a client lives: the node and its client id on that node's raylet. */
export interface Address {
  nodeId: string;
  clientId: string;
}

/** A task argument after the submitter resolved its refs. */
export type TaskArg =
  | { kind: 'value'; data: Uint8Array }
  | { kind: 'plasma'; objectId: string; nodeId: string; size: number };

export interface TaskSpec {
  taskId: string;
  jobId: string;
  attempt: number;
  name: string;
  fnHash: string;
  args: TaskArg[];
  /** Object id of the single return value. */
  returnId: string;
  resources: ResourceShape;
  strategy: SchedulingStrategy;
  owner: Address;
  /** Depth of nested submission (0 = submitted by a driver). */
  depth: number;
  /** The node of the job's driver: output printed by the task is shown there. */
  driverNodeId: string;
  /** Set for a call on an actor: the actor and the method to run (fnHash is then empty). */
  actorId?: string;
  method?: string;
  /** false for a task with maxRetries 0 (absent = retriable): the memory monitor kills retriable work first. */
  retriable?: false;
}

/** What an actor's worker needs to construct it. */
export interface ActorCreation {
  actorId: string;
  jobId: string;
  className: string;
  classHash: string;
  args: TaskArg[];
  maxConcurrency: number;
  driverNodeId: string;
  numRestarts: number;
  /** The class's function-table entry, when the head attached it (saves the worker a round trip). */
  classDescriptor?: Uint8Array;
}

/** What a task produced, as the owner stores it. */
export type ReturnValue =
  | { kind: 'inline'; data: Uint8Array }
  | { kind: 'plasma'; nodeId: string; size: number };

export interface TaskFailure {
  /**
   * APPLICATION: the task threw; WORKER_DIED / NODE_DIED: a system failure; RUNTIME_ENV_SETUP_FAILED:
   * the node could not prepare the job's runtime env (working_dir, npm ci); others are scheduling failures.
   */
  type: 'APPLICATION' | 'WORKER_DIED' | 'NODE_DIED' | 'UNSCHEDULABLE' | 'SERIALIZATION' | 'CANCELLED' | 'ACTOR_DIED' | 'ACTOR_UNAVAILABLE'
    | 'RUNTIME_ENV_SETUP_FAILED';
  message: string;
  errorName?: string;
  stack?: string;
  /** The thrown value, encoded, when it could be (so `get` rethrows the same class where possible). */
  cause?: Uint8Array;
  nodeIp?: string;
  pid?: number;
  /** For ACTOR_DIED / ACTOR_UNAVAILABLE: the actor, and why it died (KILLED, WORKER_DIED, …). */
  actorId?: string;
  deathCause?: string;
  /** For WORKER_DIED of an actor call: it never reached the actor (its node was already dead), so sending it again is no retry. */
  notDelivered?: boolean;
}

/**
 * The executing worker's account of an attempt, for task events: the owner reports it with the
 * outcome, so it survives the worker being killed right after. The raylet fills only the worker
 * when it reports a worker's death. On the wire it is packed into one string (packRun).
 */
export interface AttemptRun {
  workerId: string;
  workerPid: number;
  /** Milliseconds since the epoch: received by the worker, started, ended (absent = not reached). */
  receivedMs?: number;
  startMs?: number;
  endMs?: number;
  /** Byte offsets in the worker's stdout / stderr log files at start and end (-1 or absent = unknown). */
  stdoutStart?: number;
  stdoutEnd?: number;
  stderrStart?: number;
  stderrEnd?: number;
}

export interface TaskOutcome {
  taskId: string;
  attempt: number;
  returnId: string;
  value?: ReturnValue;
  failure?: TaskFailure;
  nodeId: string;
  /**
   * Which worker ran it, when, and where its output is: an AttemptRun packed by packRun (absent from
   * outcomes made without a worker). One string, because every outcome crosses three v8
   * serializations (worker, raylet both ways, owner) and an object's nine fields cost ~3 µs more there.
   */
  run?: string;
}

/**
 * An AttemptRun as one string: `worker,pid,received,start,end,stdoutStart,stdoutEnd,stderrStart,stderrEnd`,
 * with received in ms since the epoch (0 = unknown), start and end in ms after it (-1 = not reached:
 * small numbers, one timestamp to format per outcome), offsets -1 when unknown.
 */
export function packRun(r: AttemptRun): string {
  const received = r.receivedMs ?? 0;
  const after = (t: number | undefined) => (t && received ? t - received : -1);
  return `${r.workerId},${r.workerPid},${received},${after(r.startMs)},${after(r.endMs)},${r.stdoutStart ?? -1},${r.stdoutEnd ?? -1},${r.stderrStart ?? -1},${r.stderrEnd ?? -1}`;
}

/**
 * Reads what packRun made: its 8 numbers into `numbers` (pid, received, start, end, stdout start and
 * end, stderr start and end; start and end made absolute again, 0 when not reached), and returns the
 * worker id; undefined for anything else. Scans the characters itself: the owner does this for every
 * attempt it reports.
 */
export function parseRun(packed: string, numbers: Float64Array): string | undefined {
  const comma = packed.indexOf(',');
  if (comma < 0) return undefined;
  let pos = comma + 1;
  for (let k = 0; k < 8; k++) {
    let negative = false;
    if (packed.charCodeAt(pos) === 45) { // '-'
      negative = true;
      pos += 1;
    }
    const start = pos;
    let value = 0;
    for (let c = packed.charCodeAt(pos); c >= 48 && c <= 57; c = packed.charCodeAt(++pos)) value = value * 10 + (c - 48);
    if (pos === start || pos - start > 16 || (k < 7 ? packed.charCodeAt(pos) !== 44 : pos !== packed.length)) return undefined;
    numbers[k] = negative ? -value : value;
    pos += 1;
  }
  const received = numbers[1]!;
  numbers[2] = numbers[2]! >= 0 && received > 0 ? received + numbers[2]! : 0;
  numbers[3] = numbers[3]! >= 0 && received > 0 ? received + numbers[3]! : 0;
  return packed.slice(0, comma);
}

/** What packRun made, as an AttemptRun (undefined for anything else). */
export function unpackRun(packed: string): AttemptRun | undefined {
  const n = new Float64Array(8);
  const workerId = parseRun(packed, n);
  if (workerId === undefined) return undefined;
  const time = (v: number) => (v > 0 ? v : undefined);
  return {
    workerId, workerPid: n[0]!, receivedMs: time(n[1]!), startMs: time(n[2]!), endMs: time(n[3]!),
    stdoutStart: n[4]!, stdoutEnd: n[5]!, stderrStart: n[6]!, stderrEnd: n[7]!,
  };
}

// ---- client -> raylet ----------------------------------------------------------------------

export type ClientHello =
  // runtimeEnvJson: the job's resolved runtime env as the driver registered it ('' for none): its raylet knows it without asking the head.
  | { type: 'hello'; role: 'driver'; token: string; jobId: string; pid: number; jobDir: string; runtimeEnvJson?: string }
  | { type: 'hello'; role: 'worker'; token: string; workerId: string; pid: number };

/** First frame of a caller's direct connection to an actor worker of the same node. */
export interface CallerHello { type: 'hello'; role: 'caller'; token: string }

/** An actor worker answers its creation: constructed (listening on its socket) or failed. */
export interface ActorCreated { type: 'actorCreated'; actorId: string; failure?: TaskFailure }
/** A call on an actor of another node, relayed by the caller's raylet. */
export interface ActorCallRelay { type: 'actorCall'; nodeId: string; workerId: string; task: TaskSpec }

export interface SubmitTask { type: 'submit'; task: TaskSpec }
export interface TaskDone { type: 'taskDone'; outcome: TaskOutcome }
/** A worker waits in `get`: its CPUs go back to the pool until `unblocked`. */
export interface Blocked { type: 'blocked' }
export interface Unblocked { type: 'unblocked' }
/**
 * A worker whose running task blocked in `get` hands back the tasks queued behind it (the raylet
 * pipelines short tasks onto busy workers), so nothing waits on a task that waits on others.
 */
export interface ReturnTasks { type: 'returnTasks'; taskIds: string[] }
/** Cancel a task: dropped if still queued; with force, its worker is killed if it runs. */
export interface CancelTask { type: 'cancel'; taskId: string; force: boolean }

/** Request/response pairs carry `reqId`; the raylet answers with `{ type: 'reply', reqId, … }`. */
export type ClientRequest =
  | { type: 'objCreate'; reqId: number; objectId: string; size: number; owner: Address }
  | { type: 'objSeal'; reqId: number; objectId: string }
  | { type: 'objGet'; reqId: number; objectId: string; nodeId: string; size: number }
  | { type: 'objRelease'; reqId: number; objectIds: string[] }
  | { type: 'objDelete'; reqId: number; objects: { objectId: string; nodeId: string }[] }
  | { type: 'objStats'; reqId: number }
  /** A borrower asks the owner of a ref (through the raylets) for the object's value or location. */
  | { type: 'ownerGet'; reqId: number; objectId: string; owner: Address }
  | { type: 'nodeInfo'; reqId: number }
  /**
   * A creator asks its own raylet to start its new actor at once, before registering it with the
   * head (answered ok only when it fits here now and an idle worker is there); the registration then
   * names this node, and the head's creation call joins this one.
   */
  | { type: 'reserveActor'; reqId: number; spec: ActorSpecMsg; classDescriptor: Uint8Array }
  /** The creator's registration failed: the raylet drops the actor it started for it. */
  | { type: 'releaseActor'; reqId: number; actorId: string };

/** One object reference a process holds, for `rayts memory`. */
export interface RefInfo {
  objectId: string;
  size: number;
  referenceType: 'LOCAL_REFERENCE' | 'PINNED_IN_MEMORY' | 'USED_BY_PENDING_TASK' | 'CAPTURED_IN_OBJECT' | 'ACTOR_HANDLE';
  status: 'FINISHED' | 'PENDING' | 'FAILED';
  attempt: number;
  callSite: string;
}
export interface RefsReply { type: 'refsReply'; reqId: number; refs: RefInfo[] }

/** What an owner knows of one of its objects, for a borrower. */
export type OwnedState =
  | { status: 'ready'; value: ReturnValue }
  | { status: 'failed'; failure: TaskFailure; taskName: string }
  | { status: 'unknown' };
export interface OwnerLookupReply { type: 'ownerLookupReply'; reqId: number; state: OwnedState }

/** Lines a task printed, on their way to the job's driver. */
export interface LogLines {
  type: 'logs';
  jobId: string;
  driverNodeId: string;
  /** `(name pid=…, ip=…)`, as Ray prefixes worker output on the driver. */
  prefix: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * An owner asks its raylet for a worker to push tasks like `task` to (same job, function and
 * resources: its scheduling key). `leaseId` is the owner's own number for it. The raylet answers
 * leaseGranted, or leaseRejected when the task should not run on this node (the owner then submits
 * the key's tasks through the raylet as before).
 */
export interface RequestLease { type: 'requestLease'; leaseId: number; task: TaskSpec }
/**
 * The owner gives a lease back (or withdraws a request not granted yet). With `kill` (the reason), the
 * raylet kills the leased worker instead, and answers leaseLost once it exited: the owner lost its
 * connection to it, or a task running there was cancelled with force.
 */
export interface ReturnLease { type: 'returnLease'; leaseId: number; kill?: string }

/**
 * How many tasks of one scheduling key the owner holds back beyond its lease requests here (0 when
 * none): the raylet counts them in its demands (`rayts status`), as Ray's worker backlog reports.
 */
export interface LeaseBacklog { type: 'leaseBacklog'; key: string; resources: ResourceShape; size: number }

export type ClientMessage = ClientHello | SubmitTask | TaskDone | ActorCreated | ActorCallRelay | Blocked | Unblocked | CancelTask | ReturnTasks | ClientRequest | RefsReply | LogLines | OwnerLookupReply
  | RequestLease | ReturnLease | LeaseBacklog;

// ---- raylet -> client ----------------------------------------------------------------------

export interface Welcome {
  type: 'welcome';
  clientId: string;
  nodeId: string;
  nodeIp: string;
  /** Map the node's object store by opening this path (the arena file is unlinked). */
  arenaPath: string;
  arenaSize: number;
  arenaSegmentSize: number;
  /** What backs the arena (hugetlb, thp, 4k): a thp mapping asks for huge pages too; hugetlb takes no pwrite. */
  arenaPageMode?: PageMode;
  /** Values up to this many encoded bytes travel inline; larger ones go to the object store. */
  maxInlineBytes: number;
  gcsAddress: string;
}

/** A task to run; `gpuIds` are the node's GPU instances it holds (CUDA_VISIBLE_DEVICES while it runs; absent = none). */
export interface Execute { type: 'execute'; task: TaskSpec; jobDir: string; gpuIds?: number[] }
/**
 * The raylet binds an idle worker to a job, before the job's first task or actor on it: the worker
 * changes into `dir` (the job's prepared working_dir on this node, when it has one), which also becomes
 * its import base, and adds `envVars` to its environment (the runtime env's env_vars).
 */
export interface BindJob { type: 'bindJob'; jobId: string; dir?: string; envVars: Record<string, string> }
export interface TaskResult { type: 'taskResult'; outcome: TaskOutcome }
export interface Reply { type: 'reply'; reqId: number; ok: boolean; error?: string; errorType?: string; offset?: number; size?: number; info?: unknown }
export interface Refused { type: 'refused'; reason: string }
/** The store is short of space: collect garbage so that values nobody uses release their pins. */
export interface CollectGarbage { type: 'gc' }
/** The raylet asks for the client's object references (`rayts memory`). */
export interface RefsRequest { type: 'refsRequest'; reqId: number }
/** The raylet asks an owner about one of its objects (answered when it is no longer pending). */
export interface OwnerLookup { type: 'ownerLookup'; reqId: number; objectId: string }

/**
 * The raylet makes this worker an actor's: construct it and listen for callers on `socketPath`; count
 * the calls in `callCountsPath` (see actor/call_counts.ts). `gpuIds`: the GPU instances the actor holds for its life.
 */
export interface CreateActor { type: 'createActor'; actor: ActorCreation; jobDir: string; socketPath: string; callCountsPath?: string; gpuIds?: number[] }

/**
 * To the process that created an actor on this node, as soon as its constructor ran: the caller can
 * connect to the actor's socket before the head's record says ALIVE (one local hop instead of two
 * gRPC hops through the head).
 */
export interface ActorReady { type: 'actorReady'; actorId: string; workerId: string; socketPath: string; pid: number }

/**
 * A worker is leased to the owner: its resources are held until the owner returns the lease. The owner
 * connects to `socketPath` (hello with the cluster token), sends `execute` with `jobDir` and `gpuIds`,
 * and gets `taskResult` (and `returnTasks` when a task blocks in get) back on that connection.
 */
export interface LeaseGranted { type: 'leaseGranted'; leaseId: number; workerId: string; pid: number; socketPath: string; jobDir: string; gpuIds: number[] }
/** The raylet will not lease for this request (placement chose another node, or none can run it). */
export interface LeaseRejected { type: 'leaseRejected'; leaseId: number; reason: string }
/** The leased worker died (`failure` says how: WORKER_DIED, OutOfMemoryError…): its tasks in flight failed so. */
export interface LeaseLost { type: 'leaseLost'; leaseId: number; failure: TaskFailure }
/**
 * To a worker the raylet leased: accept tasks from owners on `socketPath` (opened once, at the first
 * lease) and count them in `countsPath` (actor/call_counts.ts), since the raylet no longer sees them.
 */
export interface Leased { type: 'leased'; socketPath: string; countsPath: string }

export type RayletMessage = CreateActor | ActorReady | Welcome | BindJob | Execute | TaskResult | Reply | Refused | CollectGarbage | RefsRequest | LogLines | OwnerLookup
  | LeaseGranted | LeaseRejected | LeaseLost | Leased;

/** What a leased worker sends its lease holder: outcomes, and tasks it hands back because its running task blocked. */
export type LeaseWorkerMessage = TaskResult | ReturnTasks;

// ---- typed replies -------------------------------------------------------------------------

/** What the raylet's `ok` reply to each request carries (a `Reply` on the wire, typed per request). */
export interface RequestReplies {
  objCreate: { offset: number; size: number };
  objSeal: object;
  objGet: { offset: number; size: number };
  objRelease: object;
  objDelete: object;
  objStats: { info: unknown };
  ownerGet: { info: OwnedState };
  nodeInfo: { info: { nodeId: string; nodeIp: string; resources: ResourceShape } };
  /** The worker that is constructing the actor, and the socket it listens on for local callers. */
  reserveActor: { info: { workerId: string; socketPath: string } };
  releaseActor: object;
}

export type RequestType = ClientRequest['type'];

/** A request without its reqId (distributes over the union, unlike Omit). */
export type RequestBody<K extends RequestType = RequestType> = ClientRequest extends infer R
  ? (R extends { reqId: number; type: K } ? Omit<R, 'reqId'> : never)
  : never;

/** The reply to a request of type K: its fields when ok, the error (and its class name) when not. */
export type ReplyTo<K extends RequestType> = Reply & (
  | ({ ok: true } & RequestReplies[K])
  | { ok: false; error?: string; errorType?: string });
