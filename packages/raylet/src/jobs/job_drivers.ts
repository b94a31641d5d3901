/**
 * Submitted jobs' drivers run by this raylet (Ray's JobSupervisor, in the raylet). A start holds the
 * driver's resources, answers PREPARING at once, prepares the job's runtime env, then runs the
 * entrypoint with `/bin/sh -c` in its own process group, stdin closed, stdout and stderr appended to
 * `<session>/logs/job-driver-<submission id>.log`, in the job's working_dir with its env vars and
 * what a driver needs to find the cluster (RAYTS_ADDRESS, RAYTS_TOKEN: in the environment, never on a
 * command line). The head hears PREPARING → RUNNING → EXITED (or FAILED_TO_START) through ReportJobDriver.
 * A driver that ends takes its whole process group with it, and the raylet's stop kills every group.
 */
import { CUDA_VISIBLE_DEVICES } from '@rayts/core-worker';
import type { GpuGrant } from '../gpu_ids.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  groupMembers, pollUntil, recordOf, signalGroup, writeJson,
  type JobDriverState, type Logger, type ResourceMap, type RuntimeEnv, type SessionPaths,
} from '@rayts/common';
import { ResourcesUnavailableError } from '../errors.js';
import type { LocalScheduler } from '../local_scheduler.js';
import type { PreparedEnv, RuntimeEnvs } from './runtime_envs.js';
import { ReportQueue, type ReportRetry } from './report_queue.js';

export type DriverPhase = 'JOB_DRIVER_PREPARING' | 'JOB_DRIVER_RUNNING' | 'JOB_DRIVER_EXITED' | 'JOB_DRIVER_FAILED_TO_START';

/** A driver's state as the head hears it (JobDriverState with every field set). */
export type DriverState = Required<Omit<JobDriverState, 'phase' | 'timeMs'>> & { phase: DriverPhase; timeMs: number };

/** A validated StartJobDriver request. */
export interface DriverStart {
  submissionId: string;
  entrypoint: string;
  runtimeEnv: RuntimeEnv;
  /** As the head sent it: the driver finds it in RAYTS_JOB_RUNTIME_ENV. */
  runtimeEnvJson: string;
  resources: ResourceMap;
}

/** The node's resources as drivers hold them. */
export interface DriverResources extends Pick<LocalScheduler, 'reserve' | 'unreserve'> {
  /** Whether `shape` is free now. */
  fitsNow(shape: ResourceMap): boolean;
  /** What is free now (for the refusal's message). */
  readonly available: ResourceMap;
}

export interface JobDriversOptions {
  paths: SessionPaths;
  nodeId: string;
  gcsAddress: string;
  /** The cluster token: into each driver's environment (RAYTS_TOKEN). */
  token: string;
  envs: Pick<RuntimeEnvs, 'prepare' | 'release'>;
  resources: DriverResources;
  /** Sends a state to the head (GcsClient.reportJobDriver). */
  report: (state: JobDriverState) => Promise<void>;
  retry: ReportRetry;
  /** SIGTERM-to-SIGKILL grace when the raylet stops its drivers. */
  stopGraceMs: number;
  logger: Logger;
}

interface Driver {
  state: DriverState;
  resources: ResourceMap;
  /** The GPU instances the driver holds (its CUDA_VISIBLE_DEVICES), with `resources`. */
  gpus: GpuGrant;
  /** Resources and the runtime env are given back once, when the driver ends. */
  released: boolean;
  stopRequested: boolean;
  child?: ChildProcess;
  killTimer?: NodeJS.Timeout;
  reports: ReportQueue;
  /** The head took its final state. */
  acknowledged: boolean;
}

/** Ended drivers remembered once the head has heard of their end (a repeated start answers it): a bound on memory. */
const ENDED_DRIVERS_KEPT = 1000;

const TERMINAL: ReadonlySet<DriverPhase> = new Set(['JOB_DRIVER_EXITED', 'JOB_DRIVER_FAILED_TO_START']);

export class JobDrivers {
  private readonly drivers = new Map<string, Driver>();
  private stopping = false;

  constructor(private readonly options: JobDriversOptions) {}

  /** Starts the driver (idempotent: a second start answers the current state). ResourcesUnavailableError when its resources are not free now. */
  start(req: DriverStart): DriverState {
    const known = this.drivers.get(req.submissionId);
    if (known) return { ...known.state };
    const { resources, nodeId, paths } = this.options;
    if (this.stopping) throw new ResourcesUnavailableError(`node ${nodeId} is stopping`);
    if (!resources.fitsNow(req.resources)) {
      throw new ResourcesUnavailableError(`node ${nodeId} does not have ${JSON.stringify(req.resources)} free for the driver of ${req.submissionId} now (free: ${JSON.stringify(resources.available)})`);
    }
    const gpus = resources.reserve(req.resources);
    const state: DriverState = {
      submissionId: req.submissionId, nodeId, phase: 'JOB_DRIVER_PREPARING', pid: 0, logFile: `job-driver-${req.submissionId}.log`,
      exitCode: 0, signal: '', stopped: false, message: '', timeMs: Date.now(),
    };
    const driver: Driver = {
      state, resources: req.resources, gpus, released: false, stopRequested: false, acknowledged: false,
      reports: new ReportQueue(this.options.report, this.options.retry, this.options.logger, (s) => this.delivered(req.submissionId, s)),
    };
    this.drivers.set(req.submissionId, driver);
    mkdirSync(paths.logs, { recursive: true });
    this.options.logger.info('job driver accepted', { submissionId: req.submissionId, resources: req.resources });
    driver.reports.push({ ...state });
    void this.run(driver, req);
    return { ...state };
  }

  /**
   * Stops a driver: SIGTERM to its process group, SIGKILL after `graceMs`; one still preparing does
   * not start (EXITED, stopped). False when no driver of that submission runs here.
   */
  stop(submissionId: string, graceMs: number): boolean {
    const d = this.drivers.get(submissionId);
    if (!d || TERMINAL.has(d.state.phase)) return false;
    d.stopRequested = true;
    if (d.state.phase === 'JOB_DRIVER_PREPARING') {
      this.end(d, { phase: 'JOB_DRIVER_EXITED', exitCode: -1, stopped: true, message: 'stopped before it started' });
      return true;
    }
    const pid = d.state.pid;
    this.options.logger.info('stopping job driver', { submissionId, pid, graceMs });
    signalGroup(pid, 'SIGTERM');
    clearTimeout(d.killTimer);
    d.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs).unref();
    return true;
  }

  /** Drivers running here, and those that ended and the head has not acknowledged yet (for RegisterNode). */
  states(): DriverState[] {
    return [...this.drivers.values()].filter((d) => !TERMINAL.has(d.state.phase) || !d.acknowledged).map((d) => ({ ...d.state }));
  }

  /** The raylet stops: every driver's process group is killed (SIGTERM, SIGKILL after the grace period); nothing more is reported. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const pids: number[] = [];
    for (const d of this.drivers.values()) {
      d.reports.close();
      clearTimeout(d.killTimer);
      if (d.state.phase === 'JOB_DRIVER_RUNNING') pids.push(d.state.pid);
      d.stopRequested = true;
    }
    for (const pid of pids) signalGroup(pid, 'SIGTERM');
    const gone = await pollUntil(() => pids.every((pid) => groupMembers(pid).length === 0), this.options.stopGraceMs, 20);
    if (!gone) for (const pid of pids) signalGroup(pid, 'SIGKILL');
    await pollUntil(() => pids.every((pid) => groupMembers(pid).length === 0), 2000, 20);
    // Their exit events may come after this: their records go now (left behind only if a group survived SIGKILL).
    for (const pid of pids) if (groupMembers(pid).length === 0) rmSync(this.pidRecord(pid), { force: true });
  }

  private async run(d: Driver, req: DriverStart): Promise<void> {
    const { submissionId } = req;
    const logPath = this.options.paths.log(d.state.logFile);
    const write = (line: string) => appendLine(logPath, line);
    let env: PreparedEnv;
    try {
      env = await this.options.envs.prepare(envKey(submissionId), req.runtimeEnv, (line) => write(`[runtime env] ${line}`));
    } catch (err) {
      if (TERMINAL.has(d.state.phase)) return; // stopped meanwhile
      const message = `runtime env setup failed: ${(err as Error).message}`;
      write(`[rayts] ${message}`);
      this.end(d, { phase: 'JOB_DRIVER_FAILED_TO_START', message });
      return;
    }
    if (TERMINAL.has(d.state.phase) || this.stopping) {
      this.options.envs.release(envKey(submissionId));
      return;
    }
    this.spawnDriver(d, req, env, logPath);
  }

  private spawnDriver(d: Driver, req: DriverStart, env: PreparedEnv, logPath: string): void {
    const { gcsAddress, token, nodeId, logger } = this.options;
    const fd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', req.entrypoint], {
        cwd: env.dir ?? process.cwd(), detached: true, stdio: ['ignore', fd, fd],
        env: {
          ...process.env, RAYTS_ADDRESS: gcsAddress, RAYTS_TOKEN: token, RAYTS_JOB_SUBMISSION_ID: req.submissionId,
          RAYTS_JOB_RUNTIME_ENV: req.runtimeEnvJson, RAYTS_NODE_ID: nodeId, ...env.envVars,
          ...(d.gpus.ids.length > 0 ? { [CUDA_VISIBLE_DEVICES]: d.gpus.ids.join(',') } : {}),
        },
      });
    } catch (err) {
      closeSync(fd);
      this.failToStart(d, logPath, (err as Error).message);
      return;
    }
    closeSync(fd); // the child has its own copy

    d.child = child;
    child.once('spawn', () => {
      if (d.state.phase !== 'JOB_DRIVER_PREPARING') return;
      const pid = child.pid!;
      writeJson(this.pidRecord(pid), recordOf('job-driver', pid));
      logger.info('job driver started', { submissionId: req.submissionId, pid, cwd: env.dir ?? process.cwd() });
      this.transition(d, { phase: 'JOB_DRIVER_RUNNING', pid });
    });
    child.once('error', (err) => {
      if (d.state.phase === 'JOB_DRIVER_PREPARING') this.failToStart(d, logPath, err.message);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(d.killTimer);
      const pid = child.pid;
      if (pid === undefined || d.state.phase !== 'JOB_DRIVER_RUNNING') return;
      // Whatever the driver started and left behind goes with it.
      signalGroup(pid, 'SIGKILL');
      rmSync(this.pidRecord(pid), { force: true });
      if (this.stopping) return;
      logger.info('job driver exited', { submissionId: req.submissionId, pid, code, signal, stopped: d.stopRequested });
      this.end(d, { phase: 'JOB_DRIVER_EXITED', exitCode: code ?? -1, signal: signal ?? '', stopped: d.stopRequested });
    });
  }

  private failToStart(d: Driver, logPath: string, why: string): void {
    const message = `could not start the entrypoint: ${why}`;
    appendLine(logPath, `[rayts] ${message}`);
    this.end(d, { phase: 'JOB_DRIVER_FAILED_TO_START', message });
  }

  private pidRecord(pid: number): string {
    // Beside the workers': `rayts stop` sweeps these groups when the raylet could not (SIGKILLed).
    const dir = join(this.options.paths.pids, 'workers');
    mkdirSync(dir, { recursive: true });
    return join(dir, `${pid}.json`);
  }

  private transition(d: Driver, change: Partial<DriverState>): void {
    d.state = { ...d.state, ...change, timeMs: Date.now() };
    d.reports.push({ ...d.state });
  }

  /** The driver ended (or never started): its resources and runtime env go back, the head hears it. */
  private end(d: Driver, change: Partial<DriverState>): void {
    this.transition(d, change);
    if (d.released) return;
    d.released = true;
    this.options.resources.unreserve(d.resources, d.gpus);
    this.options.envs.release(envKey(d.state.submissionId));
  }

  /** The head took a state: a final one leaves this node's books (kept a while for repeated starts). */
  private delivered(submissionId: string, state: JobDriverState): void {
    const d = this.drivers.get(submissionId);
    if (!d || state.phase !== d.state.phase || !TERMINAL.has(d.state.phase)) return;
    d.acknowledged = true;
    const ended = [...this.drivers.entries()].filter(([, x]) => x.acknowledged);
    for (const [id] of ended.slice(0, Math.max(0, ended.length - ENDED_DRIVERS_KEPT))) this.drivers.delete(id);
  }
}

function envKey(submissionId: string): string {
  return `submission:${submissionId}`;
}

function appendLine(path: string, line: string): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, `${line}\n`);
  } finally {
    closeSync(fd);
  }
}
