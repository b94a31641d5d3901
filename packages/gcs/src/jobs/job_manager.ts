/**
 * Submitted jobs (Ray's JobManager): records them in SQLite, places each driver on a node (the head's
 * unless entrypoint resources are asked for), asks that node's raylet to run it, and follows the
 * raylet's reports: PENDING → RUNNING → SUCCEEDED / FAILED / STOPPED. The driver is a child of the
 * raylet, not of the head, so it outlives a head restart; the raylet reports what happened meanwhile
 * when it registers again, and a driver whose node died ends FAILED, never stuck in RUNNING. Each
 * change is written before the record in memory changes; the ones the head makes by itself (a node's
 * death, a raylet's answer, a placement retried) are made once there is room when the state disk is full.
 */
import { randomInt } from 'node:crypto';
import {
  NotFoundError, RuntimeEnvError, UsageError, fits, formatAddress, isPackageUri, parseRuntimeEnvJson, runtimeEnvToJson,
  type Config, type JobDriverState__Output, type Logger, type StartJobDriverRequest,
} from '@rayts/common';
import type { JobTable } from '../job_table.js';
import type { LiveNode, NodeManager } from '../node_manager.js';
import type { NodeRecord } from '../storage/node_table.js';
import { JobExistsError, JobNotTerminalError } from '../errors.js';
import { TERMINAL_JOB_STATUSES, type JobApi, type JobDetails, type JobLogLocation, type JobStatus, type SubmitJobRequest } from './job_api.js';
import type { SubmissionRecord, SubmissionTable } from './submission_table.js';
import { driverDetails, entrypointShape, submissionDetails } from './job_details.js';
import type { DeferredWrites } from '../storage/deferred_writes.js';

/** What the manager asks of a node's raylet. */
export interface DriverHost {
  startJobDriver(request: StartJobDriverRequest): Promise<JobDriverState__Output>;
  /** False when the node runs no driver of that job. */
  stopJobDriver(submissionId: string, graceMs: number): Promise<boolean>;
}

/** What it asks of the head's package store. */
export interface JobPackages {
  info(uri: string): { exists: boolean };
  delete(uri: string): void;
  deleteUnreferenced(referenced: ReadonlySet<string>, olderThanMs: number): string[];
}

export interface JobManagerOptions {
  table: SubmissionTable;
  /** The drivers' job table (hex job ids). */
  drivers: JobTable;
  nodes: NodeManager;
  hostFor(address: string): DriverHost;
  packages: JobPackages;
  config: Config;
  logger: Logger;
  /** The changes the head makes by itself, held back while the state disk is full. */
  writes: DeferredWrites;
}

/** Ray's submission ids: `raysubmit_` and 16 characters of an alphabet without look-alikes (I l o O 0). */
const ID_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz123456789';
const SUBMISSION_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const PLACE_RETRY_MS = 1000;

export function newSubmissionId(): string {
  let id = 'raysubmit_';
  for (let i = 0; i < 16; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

function shapeText(shape: Record<string, number>): string {
  return Object.entries(shape).map(([k, v]) => `${k}: ${v}`).join(', ');
}

export class JobManager implements JobApi {
  private readonly jobs = new Map<string, SubmissionRecord>();
  private readonly placing = new Set<string>();
  private placeTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: JobManagerOptions) {
    for (const r of o.table.all()) this.jobs.set(r.submissionId, r);
    o.nodes.on('nodeDead', (record) => this.onNodeDead(record));
    o.nodes.on('nodeAdded', () => this.placePending());
  }

  /** Places what waits and follows up on what ran before a head restart. */
  start(): void {
    for (const r of this.jobs.values()) {
      if (TERMINAL_JOB_STATUSES.has(r.status) || !r.driverNodeId) continue;
      // Its node re-registers (and says what became of the driver) or dies; a node the head no longer knows is gone.
      if (this.o.nodes.get(r.driverNodeId)) continue;
      if (r.status === 'PENDING' && !r.stopRequested) this.replace(r);
      else this.lost(r, `the node ${r.driverNodeId} that ran the job's driver is not part of the cluster any more`);
    }
    this.placePending();
    const sweepMs = Math.max(1000, Math.min(600_000, (this.o.config.jobPackageUnusedTtlS * 1000) / 2));
    this.sweepTimer = setInterval(() => this.sweepPackages(), sweepMs);
    this.sweepTimer.unref();
  }

  close(): void {
    clearInterval(this.placeTimer);
    clearInterval(this.sweepTimer);
  }

  stop(id: string): boolean {
    const r = this.find(id);
    if (TERMINAL_JOB_STATUSES.has(r.status)) return false;
    this.update(r, { stopRequested: true });
    this.o.logger.info('stopping a job', { submissionId: r.submissionId, status: r.status });
    if (!r.driverNodeId) this.finish(r, 'STOPPED', 'Job was intentionally stopped.', null);
    else this.sendStop(r);
    return true;
  }

  submit(request: SubmitJobRequest): JobDetails {
    const submissionId = request.submissionId ?? newSubmissionId();
    if (!SUBMISSION_ID.test(submissionId)) {
      throw new UsageError(`submission_id: '${submissionId.slice(0, 200)}' is not valid`, 'use 1..128 letters, digits, _, - or .');
    }
    if (this.jobs.has(submissionId)) {
      throw new JobExistsError(`a job with submission_id '${submissionId}' already exists`, 'choose another --submission-id, or delete the old job with `rayts job delete`');
    }
    if (request.entrypoint.trim() === '') throw new UsageError('entrypoint: must be a non-empty shell command', 'for example: node main.js');
    const uri = request.runtimeEnv.working_dir;
    if (uri !== undefined) {
      if (!isPackageUri(uri)) throw new RuntimeEnvError('working_dir', `'${uri}' is not a package URI`, 'upload the directory first; `rayts job submit --working-dir DIR` does it');
      if (!this.o.packages.info(uri).exists) {
        throw new RuntimeEnvError('working_dir', `package ${uri} is not on the head`, 'upload it first (PUT /api/packages/gcs/<name>); `rayts job submit --working-dir DIR` does it');
      }
    }
    const r: SubmissionRecord = {
      submissionId, entrypoint: request.entrypoint, runtimeEnv: request.runtimeEnv, metadata: request.metadata,
      entrypointNumCpus: request.entrypointNumCpus, entrypointNumGpus: request.entrypointNumGpus, entrypointMemory: request.entrypointMemory,
      entrypointResources: request.entrypointResources, status: 'PENDING', message: 'Job has not started yet.', errorType: null,
      startTimeMs: Date.now(), endTimeMs: null, driverNodeId: null, driverPid: null, driverExitCode: null, stopRequested: false,
    };
    this.o.table.insert(r);
    this.jobs.set(submissionId, r);
    this.o.logger.info('job submitted', { submissionId, entrypoint: r.entrypoint.slice(0, 200) });
    this.place(r);
    return this.details(r);
  }

  get(id: string): JobDetails | undefined {
    const r = this.jobs.get(id);
    if (r) return this.details(r);
    const driver = this.o.drivers.get(id);
    if (!driver) return undefined;
    const submission = driver.submissionId ? this.jobs.get(driver.submissionId) : undefined;
    return submission ? this.details(submission) : driverDetails(driver, this.nodeIp(driver.nodeId));
  }

  list(): JobDetails[] {
    const drivers = this.o.drivers.list(this.o.config.jobsKept).filter((d) => !d.submissionId).map((d) => driverDetails(d, this.nodeIp(d.nodeId)));
    return [...[...this.jobs.values()].map((r) => this.details(r)), ...drivers].sort((a, b) => a.startTimeMs - b.startTimeMs);
  }

  delete(id: string): void {
    const r = this.find(id);
    if (!TERMINAL_JOB_STATUSES.has(r.status)) {
      throw new JobNotTerminalError(`job '${r.submissionId}' is ${r.status}: only a finished job can be deleted`, `stop it first: rayts job stop ${r.submissionId}`);
    }
    this.forget(r);
  }

  logLocation(id: string): JobLogLocation | undefined {
    const r = this.find(id);
    return r.driverNodeId ? { nodeId: r.driverNodeId, fileName: `job-driver-${r.submissionId}.log` } : undefined;
  }

  /** A raylet's report about a driver it runs (or ran). */
  onDriverState(state: JobDriverState__Output): void {
    const r = this.jobs.get(state.submissionId);
    if (!r || TERMINAL_JOB_STATUSES.has(r.status) || (r.driverNodeId && state.nodeId && state.nodeId !== r.driverNodeId)) return;
    switch (state.phase) {
      case 'JOB_DRIVER_PREPARING':
        this.update(r, { message: 'Job is preparing its runtime environment.' });
        return;
      case 'JOB_DRIVER_RUNNING':
        if (r.status === 'RUNNING' && r.driverPid === state.pid) return;
        this.update(r, { status: 'RUNNING', driverPid: state.pid, message: 'Job is currently running.' });
        this.o.logger.info('job is running', { submissionId: r.submissionId, nodeId: r.driverNodeId, pid: state.pid });
        if (r.stopRequested) this.sendStop(r);
        return;
      case 'JOB_DRIVER_EXITED': {
        const exited = { driverExitCode: state.exitCode };
        if (state.stopped || r.stopRequested) this.finish(r, 'STOPPED', 'Job was intentionally stopped.', null, exited);
        else if (state.exitCode === 0) this.finish(r, 'SUCCEEDED', 'Job finished successfully.', null, exited);
        else {
          const how = state.exitCode >= 0 ? `failed with exit code ${state.exitCode}` : `was killed by ${state.signal || 'a signal'}`;
          this.finish(r, 'FAILED', `Job entrypoint command ${how}.${state.message ? ` ${state.message}` : ''}`, 'JOB_ENTRYPOINT_COMMAND_ERROR', exited);
        }
        return;
      }
      case 'JOB_DRIVER_FAILED_TO_START':
        if (r.stopRequested) this.finish(r, 'STOPPED', 'Job was intentionally stopped.', null);
        else this.finish(r, 'FAILED', `The job's runtime environment could not be set up: ${state.message}`, 'RUNTIME_ENV_SETUP_FAILURE');
        return;
      default:
        this.o.logger.warn('job driver report without a phase', { submissionId: state.submissionId });
    }
  }

  /** A node (re-)registered and listed the drivers it runs: anything else it was running has ended unseen. */
  reconcileNode(nodeId: string, states: JobDriverState__Output[]): void {
    const listed = new Set<string>();
    for (const s of states) {
      listed.add(s.submissionId);
      this.onDriverState({ ...s, nodeId });
    }
    for (const r of this.jobs.values()) {
      if (r.driverNodeId !== nodeId || TERMINAL_JOB_STATUSES.has(r.status) || listed.has(r.submissionId) || this.placing.has(r.submissionId)) continue;
      if (r.status === 'PENDING') this.replace(r);
      else this.lost(r, 'its driver ended while the head was down and its exit was not recorded');
    }
  }

  /** Package URIs that job records and running drivers refer to. */
  referencedPackages(): Set<string> {
    const uris = new Set<string>();
    for (const r of this.jobs.values()) if (r.runtimeEnv.working_dir) uris.add(r.runtimeEnv.working_dir);
    for (const json of this.o.drivers.runningRuntimeEnvs()) {
      try {
        const uri = parseRuntimeEnvJson(json).working_dir;
        if (uri) uris.add(uri);
      } catch {
        // A malformed env refers to no package.
      }
    }
    return uris;
  }

  private find(id: string): SubmissionRecord {
    const r = this.jobs.get(id) ?? (() => {
      const sid = this.o.drivers.get(id)?.submissionId;
      return sid ? this.jobs.get(sid) : undefined;
    })();
    if (!r) {
      throw new NotFoundError(this.o.drivers.get(id) ? `job ${id} is a driver started outside the job API: it has no submission to stop, delete or read logs of`
        : `job with id=${id} not found`, 'list the jobs with `rayts job list`');
    }
    return r;
  }

  private details(r: SubmissionRecord): JobDetails {
    return submissionDetails(r, this.o.drivers.bySubmission(r.submissionId)?.jobId ?? null, r.driverNodeId ? this.nodeIp(r.driverNodeId) : null);
  }

  private nodeIp(nodeId: string): string | null {
    return this.o.nodes.get(nodeId)?.record.nodeIp ?? this.o.nodes.deadNodes(this.o.config.deadNodesKept).find((n) => n.nodeId === nodeId)?.nodeIp ?? null;
  }

  /** Writes the record with `change` (throws StateDiskFullError on a full disk), and only then changes it in memory. */
  private update(r: SubmissionRecord, change: Partial<SubmissionRecord>): void {
    this.o.table.save({ ...r, ...change });
    Object.assign(r, change);
  }

  private finish(r: SubmissionRecord, status: JobStatus, message: string, errorType: string | null, change: Partial<SubmissionRecord> = {}): void {
    this.update(r, { ...change, status, message, errorType, endTimeMs: Date.now() });
    this.o.logger.info('job ended', { submissionId: r.submissionId, status, message: message.slice(0, 300) });
    this.prune();
  }

  private lost(r: SubmissionRecord, why: string): void {
    if (r.stopRequested) this.finish(r, 'STOPPED', 'Job was intentionally stopped.', null);
    else this.finish(r, 'FAILED', `The job's driver was lost: ${why}.`, 'JOB_DRIVER_LOST');
  }

  /** A PENDING job whose node never started its driver goes back to placement. */
  private replace(r: SubmissionRecord): void {
    this.update(r, { driverNodeId: null, message: 'Job has not started yet.' });
    this.place(r);
  }

  private pickNode(shape: Record<string, number>): LiveNode | undefined {
    const alive = this.o.nodes.alive().filter((n) => !n.restored);
    if (Object.keys(shape).length === 0) return alive.find((n) => n.record.isHead) ?? alive[0];
    return alive.filter((n) => fits(shape, n.available)).sort((a, b) => (b.available.CPU ?? 0) - (a.available.CPU ?? 0))[0];
  }

  /** Places a PENDING job without a node (on a full disk: once its placement can be written). */
  private place(r: SubmissionRecord): void {
    this.o.writes.run(`where job ${r.submissionId} runs`, () => {
      if (r.status === 'PENDING' && !r.driverNodeId && !this.placing.has(r.submissionId)) this.placeNow(r);
    });
  }

  private placeNow(r: SubmissionRecord): void {
    if (r.stopRequested) {
      this.finish(r, 'STOPPED', 'Job was intentionally stopped.', null);
      return;
    }
    const shape = entrypointShape(r);
    const node = this.pickNode(shape);
    if (!node) {
      const anyFits = this.o.nodes.alive().some((n) => fits(shape, n.total));
      const message = anyFits ? `Job is waiting for a node with ${shapeText(shape)} free.`
        : `Job is waiting for a node that has ${Object.keys(shape).length ? shapeText(shape) : 'a raylet'} (no node of the cluster has it now).`;
      if (r.message !== message) this.update(r, { message });
      this.schedulePlacement();
      return;
    }
    const nodeId = node.record.nodeId;
    this.update(r, { driverNodeId: nodeId });
    this.placing.add(r.submissionId);
    const host = this.o.hostFor(formatAddress(node.record.nodeIp, node.record.rayletPort));
    host.startJobDriver({ submissionId: r.submissionId, entrypoint: r.entrypoint, runtimeEnvJson: runtimeEnvToJson(r.runtimeEnv), resources: shape })
      .then((state) => {
        this.placing.delete(r.submissionId);
        this.o.writes.run(`what job ${r.submissionId}'s driver reported`, () => {
          this.onDriverState({ ...state, nodeId });
          if (r.stopRequested && !TERMINAL_JOB_STATUSES.has(r.status)) this.sendStop(r);
        });
      })
      .catch((err: Error) => {
        this.placing.delete(r.submissionId);
        if (TERMINAL_JOB_STATUSES.has(r.status) || r.driverNodeId !== nodeId) return;
        this.o.logger.info('a node could not start a job driver; trying again', { submissionId: r.submissionId, nodeId, error: err.message });
        this.o.writes.run(`that job ${r.submissionId} waits for a node again`, () => {
          if (!TERMINAL_JOB_STATUSES.has(r.status) && r.driverNodeId === nodeId) this.update(r, { driverNodeId: null });
        });
        this.schedulePlacement();
      });
  }

  private schedulePlacement(): void {
    if (this.placeTimer) return;
    this.placeTimer = setInterval(() => this.placePending(), PLACE_RETRY_MS);
    this.placeTimer.unref();
  }

  private placePending(): void {
    let waiting = false;
    for (const r of this.jobs.values()) {
      if (r.status !== 'PENDING' || r.driverNodeId || this.placing.has(r.submissionId)) continue;
      this.place(r);
      waiting ||= !r.driverNodeId && r.status === 'PENDING';
    }
    if (!waiting && this.placeTimer) {
      clearInterval(this.placeTimer);
      this.placeTimer = undefined;
    }
  }

  private sendStop(r: SubmissionRecord): void {
    const node = r.driverNodeId ? this.o.nodes.get(r.driverNodeId) : undefined;
    if (!node) return;
    this.o.hostFor(formatAddress(node.record.nodeIp, node.record.rayletPort)).stopJobDriver(r.submissionId, this.o.config.jobStopGraceMs)
      .then((found) => {
        // The node never had it (placement raced the stop): nothing runs.
        if (!found) {
          this.o.writes.run(`that job ${r.submissionId} is STOPPED`, () => {
            if (r.status === 'PENDING' && !this.placing.has(r.submissionId)) this.finish(r, 'STOPPED', 'Job was intentionally stopped.', null);
          });
        }
      })
      .catch((err: Error) => this.o.logger.warn('could not ask a node to stop a job driver', { submissionId: r.submissionId, error: err.message }));
  }

  private onNodeDead(record: NodeRecord): void {
    for (const r of this.jobs.values()) {
      if (r.driverNodeId !== record.nodeId || TERMINAL_JOB_STATUSES.has(r.status)) continue;
      this.o.writes.run(`what became of job ${r.submissionId} on the dead node ${record.nodeId}`, () => {
        if (r.driverNodeId !== record.nodeId || TERMINAL_JOB_STATUSES.has(r.status)) return;
        if (r.status === 'PENDING' && !r.stopRequested) this.replace(r);
        else this.lost(r, `the node ${record.nodeId} (${record.nodeIp}) running it died: ${record.deathReason || 'no reason given'}`);
      });
    }
  }

  private forget(r: SubmissionRecord): void {
    this.o.table.delete(r.submissionId);
    this.jobs.delete(r.submissionId);
    const uri = r.runtimeEnv.working_dir;
    if (uri && !this.referencedPackages().has(uri)) this.o.packages.delete(uri);
  }

  /** Keeps at most jobsKept finished submissions (the oldest go first, with their packages). */
  private prune(): void {
    const finished = [...this.jobs.values()].filter((r) => TERMINAL_JOB_STATUSES.has(r.status));
    for (const r of finished.slice(0, Math.max(0, finished.length - this.o.config.jobsKept))) this.forget(r);
  }

  private sweepPackages(): void {
    const deleted = this.o.packages.deleteUnreferenced(this.referencedPackages(), this.o.config.jobPackageUnusedTtlS * 1000);
    if (deleted.length) this.o.logger.info('deleted working_dir packages no job refers to', { count: deleted.length });
  }
}
