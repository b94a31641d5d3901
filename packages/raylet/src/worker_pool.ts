/**
 * The raylet's pool of worker processes. Each worker is forked detached, so it leads
 * its own process group: when a worker goes, its whole group is killed and no grandchild survives.
 * Workers also watch the IPC channel and kill their group if the raylet dies first. A worker counts
 * as started when it says hello on the raylet's local socket.
 */
import { EventEmitter } from 'node:events';
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pollUntil, recordOf, signalGroup, groupMembers, workerLogFiles, writeJson, type Logger, type SessionPaths } from '@rayts/common';
import { WORKER_MAIN } from '@rayts/core-worker';

export interface WorkerHandle {
  workerId: string;
  pid: number;
  process: ChildProcess;
  connected: boolean;
  startTimeMs: number;
  /** Why the raylet killed it, once it did. */
  killReason?: string;
  /** The error class its task fails with when the raylet killed it for a reason of its own (OutOfMemoryError); the reason is then the error's message. */
  killErrorName?: string;
}

/** Ray's exit types, as `rayts list workers` shows them. */
export type WorkerExitType = 'SYSTEM_ERROR' | 'INTENDED_SYSTEM_EXIT' | 'INTENDED_USER_EXIT' | 'NODE_OUT_OF_MEMORY';

/** A worker that exited, kept (the newest `exitedKept`) for `rayts list workers`. */
export interface ExitedWorker {
  workerId: string;
  pid: number;
  startTimeMs: number;
  endTimeMs: number;
  exitType: WorkerExitType;
  exitDetail: string;
}

export interface WorkerPoolOptions {
  paths: SessionPaths;
  nodeId: string;
  logger: Logger;
  /** Idle workers kept started. */
  prestart: number;
  /** At most this many workers start at once (Ray: the CPU count). */
  maxStarting: number;
  /** At most this many workers in total (blocked workers need company). */
  maxWorkers: number;
  exitGraceMs: number;
  /** How many exited workers the pool remembers. */
  exitedKept: number;
  socketPath: string;
  gcsAddress: string;
  tokenFile: string;
  /** Sets each new worker's oom_score_adj, so the kernel prefers workers to the raylet. */
  oomScore: { adjust(pid: number): void };
  /** Workers' environment: the raylet's (undefined) or this one (workerEnv in worker_env.ts). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The pool announces each worker exit (not those of its own stop) as `exit`: the node manager, built
 * after the pool from parts that need the pool, listens and fails what ran on the worker.
 */
export class WorkerPool extends EventEmitter<{ exit: [workerId: string, reason: string, errorName: string | undefined] }> {
  private readonly workers = new Map<string, WorkerHandle>();
  /** Workers that host an actor: outside the pool's size limits, and their socket goes with them. */
  private readonly dedicated = new Map<string, string>();
  private readonly exitedWorkers: ExitedWorker[] = [];
  private stopping = false;

  constructor(private readonly options: WorkerPoolOptions) {
    super();
  }

  start(): void {
    for (let i = 0; i < this.options.prestart; i++) this.spawn();
  }

  list(): WorkerHandle[] {
    return [...this.workers.values()];
  }

  get(workerId: string): WorkerHandle | undefined {
    return this.workers.get(workerId);
  }

  /** Workers that exited, oldest first (at most `exitedKept`). */
  exited(): readonly ExitedWorker[] {
    return this.exitedWorkers;
  }

  private get starting(): number {
    return this.list().filter((w) => !w.connected).length;
  }

  /** Workers of the task pool (not hosting an actor). */
  private get pooled(): number {
    return this.workers.size - this.dedicated.size;
  }

  /** The worker now hosts an actor; its socket file is removed when it exits. */
  markDedicated(workerId: string, socketPath: string): void {
    this.dedicated.set(workerId, socketPath);
  }

  /** Starts one more worker if the limits allow; the scheduler gets it when it connects. */
  startWorker(): boolean {
    if (this.stopping || this.starting >= this.options.maxStarting || this.pooled >= this.options.maxWorkers) return false;
    return this.spawn() !== undefined;
  }

  /** Called by the local server when a worker said hello; false for an unknown worker id. */
  markConnected(workerId: string, pid: number): boolean {
    const w = this.workers.get(workerId);
    if (!w || w.pid !== pid) return false;
    w.connected = true;
    return true;
  }

  /** Kills the worker's process group; with `errorName` its task fails with that error and `reason` as its message. */
  killWorker(workerId: string, reason: string, errorName?: string): void {
    const w = this.workers.get(workerId);
    if (!w) return;
    if (w.killReason === undefined && errorName) w.killErrorName = errorName;
    w.killReason ??= reason;
    this.options.logger.info('killing worker', { workerId, pid: w.pid, reason });
    signalGroup(w.pid, 'SIGKILL');
  }

  private get pidDir(): string {
    return join(this.options.paths.pids, 'workers');
  }

  private spawn(): WorkerHandle | undefined {
    const { paths, logger } = this.options;
    const workerId = randomBytes(14).toString('hex');
    const outPath = paths.log(`worker-${workerId}.out`);
    const errPath = paths.log(`worker-${workerId}.err`);
    const out = openSync(outPath, 'a');
    const err = openSync(errPath, 'a');
    let child: ChildProcess;
    try {
      child = fork(WORKER_MAIN, ['--worker-id', workerId, '--node-id', this.options.nodeId, '--session-dir', paths.dir,
        '--socket', this.options.socketPath, '--gcs-address', this.options.gcsAddress, '--token-file', this.options.tokenFile], {
        detached: true,
        stdio: ['ignore', out, err, 'ipc'],
        env: this.options.env,
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    const pid = child.pid;
    if (pid === undefined) {
      logger.error('could not fork a worker', { workerId });
      return undefined;
    }
    // Ray's file names carry the pid, which exists only now.
    const files = workerLogFiles(workerId, pid);
    renameSync(outPath, paths.log(files.stdout));
    renameSync(errPath, paths.log(files.stderr));
    // `rayts stop` reads these when the raylet itself could not stop its workers (SIGKILL).
    mkdirSync(this.pidDir, { recursive: true });
    writeJson(join(this.pidDir, `${pid}.json`), recordOf('worker', pid));
    this.options.oomScore.adjust(pid);
    const handle: WorkerHandle = { workerId, pid, process: child, connected: false, startTimeMs: Date.now() };
    this.workers.set(workerId, handle);
    child.on('exit', (code, signal) => this.onExit(handle, code, signal));
    child.on('error', (e) => logger.warn('worker process error', { workerId, pid, err: e }));
    logger.info('worker started', { workerId, pid });
    return handle;
  }

  private onExit(handle: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(handle.workerId);
    rmSync(join(this.pidDir, `${handle.pid}.json`), { force: true });
    const socket = this.dedicated.get(handle.workerId);
    this.dedicated.delete(handle.workerId);
    if (socket) rmSync(socket, { force: true });
    // Whatever the worker started goes with it.
    signalGroup(handle.pid, 'SIGKILL');
    if (this.stopping) return;
    const reason = handle.killErrorName ? handle.killReason! : signal ? `worker process (pid ${handle.pid}) was killed by ${signal}` : `worker process (pid ${handle.pid}) exited with code ${code}`;
    this.remember(handle, reason, code);
    this.options.logger.warn('worker exited', { workerId: handle.workerId, pid: handle.pid, code, signal });
    this.emit('exit', handle.workerId, reason, handle.killErrorName);
    if (!socket && this.pooled < this.options.prestart) this.spawn();
  }

  private remember(handle: WorkerHandle, reason: string, code: number | null): void {
    const exitType: WorkerExitType = handle.killErrorName === 'OutOfMemoryError' ? 'NODE_OUT_OF_MEMORY'
      : handle.killReason ? 'INTENDED_SYSTEM_EXIT' : code === 0 ? 'INTENDED_USER_EXIT' : 'SYSTEM_ERROR';
    const exitDetail = handle.killReason ? `the raylet stopped it: ${handle.killReason}` : reason;
    this.exitedWorkers.push({ workerId: handle.workerId, pid: handle.pid, startTimeMs: handle.startTimeMs, endTimeMs: Date.now(), exitType, exitDetail });
    if (this.exitedWorkers.length > this.options.exitedKept) this.exitedWorkers.splice(0, this.exitedWorkers.length - this.options.exitedKept);
  }

  /** Stops every worker group: SIGTERM, then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    const pids = this.list().map((w) => w.pid);
    for (const pid of pids) signalGroup(pid, 'SIGTERM');
    const gone = await pollUntil(() => pids.every((pid) => groupMembers(pid).length === 0), this.options.exitGraceMs, 20);
    if (!gone) for (const pid of pids) signalGroup(pid, 'SIGKILL');
    await pollUntil(() => pids.every((pid) => groupMembers(pid).length === 0), 2000, 20);
  }
}
