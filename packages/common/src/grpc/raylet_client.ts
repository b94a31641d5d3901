/** Typed client of a raylet's service: health probes (from the head) and logs (from the CLI). */
import * as grpc from '@grpc/grpc-js';
import { raytsProto } from './proto.js';
import { makeClient, unaryCall, type ClientOptions } from './client.js';
import { toRaytsError } from './status.js';
import { ResourcesUnavailableError } from '../errors.js';
import type { RayletServiceClient } from '../generated/rayts/v1/RayletService.js';
import type { HealthCheckReply__Output } from '../generated/rayts/v1/HealthCheckReply.js';
import type { ListLogsReply__Output } from '../generated/rayts/v1/ListLogsReply.js';
import type { StreamLogRequest } from '../generated/rayts/v1/StreamLogRequest.js';
import type { LogChunk__Output } from '../generated/rayts/v1/LogChunk.js';
import type { ExecuteTaskRequest } from '../generated/rayts/v1/ExecuteTaskRequest.js';
import type { TaskOutcome__Output } from '../generated/rayts/v1/TaskOutcome.js';
import type { NodeStats__Output } from '../generated/rayts/v1/NodeStats.js';
import type { OwnedObject__Output } from '../generated/rayts/v1/OwnedObject.js';
import type { BundleSpec } from '../generated/rayts/v1/BundleSpec.js';
import type { BundlesReply__Output } from '../generated/rayts/v1/BundlesReply.js';
import type { StartJobDriverRequest } from '../generated/rayts/v1/StartJobDriverRequest.js';
import type { JobDriverState__Output } from '../generated/rayts/v1/JobDriverState.js';

/** The four steps of a bundle reservation, as the raylet service names them. */
export type BundleOperation = 'PrepareBundles' | 'CommitBundles' | 'ReserveBundles' | 'CancelBundles' | 'ReturnBundles';

export class RayletClient {
  private readonly client: RayletServiceClient;

  constructor(readonly address: string, private readonly options: ClientOptions) {
    this.client = makeClient(raytsProto().RayletService, address, options);
  }

  healthCheck(nodeId: string, timeoutMs: number): Promise<HealthCheckReply__Output> {
    return unaryCall((md, o, cb) => this.client.HealthCheck({ nodeId }, md, o, cb), timeoutMs, this.address, 'raylet');
  }

  listLogs(glob = ''): Promise<ListLogsReply__Output> {
    return unaryCall((md, o, cb) => this.client.ListLogs({ glob }, md, o, cb), this.options.timeoutMs, this.address, 'raylet');
  }

  /** Runs a task on that node; resolves with its outcome whenever it finishes (no deadline). */
  executeTask(request: ExecuteTaskRequest): Promise<TaskOutcome__Output> {
    return unaryCall((md, o, cb) => this.client.ExecuteTask(request, md, {}, cb), 0, this.address, 'raylet');
  }

  /** Streams an object of that node's store, chunk by chunk. */
  pullObject(objectId: string, onChunk: (chunk: { offset: number; totalSize: number; data: Buffer }) => void): Promise<void> {
    const call = this.client.PullObject({ objectId });
    return new Promise<void>((resolve, reject) => {
      call.on('data', (c: { offset: number | string; totalSize: number | string; data: Buffer }) => onChunk({ offset: Number(c.offset), totalSize: Number(c.totalSize), data: c.data }));
      call.on('end', resolve);
      call.on('error', (err: Error) => reject(toRaytsError(err, this.address, 'raylet')));
    });
  }

  async publishLogs(jobId: string, prefix: string, stream: string, text: string): Promise<void> {
    await unaryCall((md, o, cb) => this.client.PublishLogs({ jobId, prefix, stream, text }, md, o, cb), this.options.timeoutMs, this.address, 'raylet');
  }

  /** Waits (no deadline) until the owner can say what became of its object. */
  getFromOwner(objectId: string, ownerClientId: string): Promise<OwnedObject__Output> {
    return unaryCall((md, o, cb) => this.client.GetFromOwner({ objectId, ownerClientId }, md, {}, cb), 0, this.address, 'raylet');
  }

  /** The store's figures, and on request every process's references and the node's workers. */
  getNodeStats(include: { memoryInfo?: boolean; workers?: boolean } = {}, timeoutMs = this.options.timeoutMs): Promise<NodeStats__Output> {
    const request = { includeMemoryInfo: !!include.memoryInfo, includeWorkers: !!include.workers };
    return unaryCall((md, o, cb) => this.client.GetNodeStats(request, md, o, cb), timeoutMs, this.address, 'raylet');
  }

  async deleteObjects(objectIds: string[]): Promise<number> {
    const reply = await unaryCall<{ deleted: number }>((md, o, cb) => this.client.DeleteObjects({ objectIds }, md, o, cb), this.options.timeoutMs, this.address, 'raylet');
    return reply.deleted;
  }

  /** One step of the head's two-phase bundle reservation on that node (`nodeId` fences a new incarnation). */
  bundles(operation: BundleOperation, nodeId: string, bundles: BundleSpec[]): Promise<BundlesReply__Output> {
    return unaryCall((md, o, cb) => this.client[operation]({ nodeId, bundles }, md, o, cb), this.options.timeoutMs, this.address, 'raylet');
  }

  /**
   * Starts a submitted job's driver on that node (answered at once, PREPARING; idempotent per
   * submission id). `ResourcesUnavailableError` when the node does not have the resources free now.
   */
  startJobDriver(request: StartJobDriverRequest): Promise<JobDriverState__Output> {
    return unaryCall((md, o, cb) => this.client.StartJobDriver(request, md, o, (err, reply) => {
      // Not through the generic mapping: RESOURCE_EXHAUSTED means something else for other services.
      const busy = err?.code === grpc.status.RESOURCE_EXHAUSTED ? new ResourcesUnavailableError(err.details) : undefined;
      cb(busy ? (busy as unknown as grpc.ServiceError) : err, reply);
    }), this.options.timeoutMs, this.address, 'raylet');
  }

  /** SIGTERM to the driver's process group, SIGKILL after graceMs; false when the node runs no such driver. */
  async stopJobDriver(submissionId: string, graceMs: number): Promise<boolean> {
    const reply = await unaryCall<{ found: boolean }>((md, o, cb) => this.client.StopJobDriver({ submissionId, graceMs }, md, o, cb), this.options.timeoutMs, this.address, 'raylet');
    return reply.found;
  }

  /** Streams a log file; resolves when the stream ends (never, with follow, until `cancel`). */
  streamLog(request: StreamLogRequest, onChunk: (chunk: LogChunk__Output) => void): { done: Promise<void>; cancel(): void } {
    const call = this.client.StreamLog(request);
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', onChunk);
      call.on('end', resolve);
      call.on('error', (err: Error & { code?: number }) => (err.code === 1 /* CANCELLED */ ? resolve() : reject(toRaytsError(err, this.address, 'raylet'))));
    });
    return { done, cancel: () => call.cancel() };
  }

  close(): void {
    this.client.close();
  }
}
