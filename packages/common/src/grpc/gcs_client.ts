/** Typed client of the head's services (cluster, node, kv), used by raylets, the CLI and drivers. */
import type * as grpc from '@grpc/grpc-js';
import { raytsProto } from './proto.js';
import { makeClient, patientCall, unaryCall, type ClientOptions, type UnaryInvoker } from './client.js';
import type { ClusterServiceClient } from '../generated/rayts/v1/ClusterService.js';
import type { NodeServiceClient } from '../generated/rayts/v1/NodeService.js';
import type { KvServiceClient } from '../generated/rayts/v1/KvService.js';
import type { JobServiceClient } from '../generated/rayts/v1/JobService.js';
import type { PlacementGroupServiceClient } from '../generated/rayts/v1/PlacementGroupService.js';
import type { PlacementGroupInfo__Output } from '../generated/rayts/v1/PlacementGroupInfo.js';
import type { CreatePlacementGroupRequest } from '../generated/rayts/v1/CreatePlacementGroupRequest.js';
import type { GetPlacementGroupRequest } from '../generated/rayts/v1/GetPlacementGroupRequest.js';
import type { CreatePlacementGroupsReply__Output } from '../generated/rayts/v1/CreatePlacementGroupsReply.js';
import { TurnBatcher } from '../turn_batcher.js';
import { toRaytsError } from './status.js';
import type { ClusterInfo__Output } from '../generated/rayts/v1/ClusterInfo.js';
import type { ClusterStatus__Output } from '../generated/rayts/v1/ClusterStatus.js';
import type { RegisterNodeRequest } from '../generated/rayts/v1/RegisterNodeRequest.js';
import type { RegisterNodeReply__Output } from '../generated/rayts/v1/RegisterNodeReply.js';
import type { ReportResourcesRequest } from '../generated/rayts/v1/ReportResourcesRequest.js';
import type { ReportResourcesReply__Output } from '../generated/rayts/v1/ReportResourcesReply.js';
import type { NodeInfo__Output } from '../generated/rayts/v1/NodeInfo.js';
import type { RegisterJobRequest } from '../generated/rayts/v1/RegisterJobRequest.js';
import type { GetJobRuntimeEnvReply__Output } from '../generated/rayts/v1/GetJobRuntimeEnvReply.js';
import type { JobDriverState } from '../generated/rayts/v1/JobDriverState.js';

export class GcsClient {
  private readonly cluster: ClusterServiceClient;
  private readonly node: NodeServiceClient;
  private readonly kv: KvServiceClient;
  private readonly job: JobServiceClient;
  private readonly placementGroup: PlacementGroupServiceClient;

  constructor(readonly address: string, private readonly options: ClientOptions) {
    const proto = raytsProto();
    this.cluster = makeClient(proto.ClusterService, address, options);
    this.node = makeClient(proto.NodeService, address, options);
    this.kv = makeClient(proto.KvService, address, options);
    this.job = makeClient(proto.JobService, address, options);
    this.placementGroup = makeClient(proto.PlacementGroupService, address, options);
  }

  /** A call that waits for a head that is away, when the client was given patience. */
  private call<Res>(what: string, invoke: UnaryInvoker<Res>, timeoutMs = this.options.timeoutMs): Promise<Res> {
    return patientCall(this.options.patience, what, () => this.callOnce(invoke, timeoutMs));
  }

  /** A call that fails at once when no head answers (whatever the client's patience). */
  private callOnce<Res>(invoke: UnaryInvoker<Res>, timeoutMs = this.options.timeoutMs): Promise<Res> {
    return unaryCall(invoke, timeoutMs, this.address, 'head');
  }

  getClusterInfo(timeoutMs?: number): Promise<ClusterInfo__Output> {
    return this.callOnce((md, o, cb) => this.cluster.GetClusterInfo({}, md, o, cb), timeoutMs);
  }

  getClusterStatus(): Promise<ClusterStatus__Output> {
    return this.callOnce((md, o, cb) => this.cluster.GetClusterStatus({}, md, o, cb));
  }

  registerNode(request: RegisterNodeRequest): Promise<RegisterNodeReply__Output> {
    return this.callOnce((md, o, cb) => this.node.RegisterNode(request, md, o, cb));
  }

  reportResources(request: ReportResourcesRequest, timeoutMs?: number): Promise<ReportResourcesReply__Output> {
    return this.callOnce((md, o, cb) => this.node.ReportResources(request, md, o, cb), timeoutMs);
  }

  unregisterNode(nodeId: string, reason: string, timeoutMs?: number): Promise<unknown> {
    return this.callOnce((md, o, cb) => this.node.UnregisterNode({ nodeId, reason }, md, o, cb), timeoutMs);
  }

  async listNodes(includeDead = false): Promise<NodeInfo__Output[]> {
    const reply = await this.call<{ nodes: NodeInfo__Output[] }>('listing the nodes', (md, o, cb) => this.node.ListNodes({ includeDead }, md, o, cb));
    return reply.nodes;
  }

  async kvPut(namespace: string, key: string, value: Buffer, overwrite = true): Promise<boolean> {
    const reply = await this.call<{ added: boolean }>(`storing ${namespace}/${key} in the head's kv`, (md, o, cb) => this.kv.KvPut({ namespace, key, value, overwrite }, md, o, cb));
    return reply.added;
  }

  async kvGet(namespace: string, key: string): Promise<Buffer | undefined> {
    const reply = await this.call<{ found: boolean; value: Buffer }>(`reading ${namespace}/${key} from the head's kv`, (md, o, cb) => this.kv.KvGet({ namespace, key }, md, o, cb));
    return reply.found ? reply.value : undefined;
  }

  async kvDel(namespace: string, key: string): Promise<number> {
    const reply = await this.call<{ deleted: number }>(`deleting ${namespace}/${key} from the head's kv`, (md, o, cb) => this.kv.KvDel({ namespace, key }, md, o, cb));
    return reply.deleted;
  }

  async kvKeys(namespace: string, prefix = ''): Promise<string[]> {
    const reply = await this.call<{ keys: string[] }>(`listing the head's kv keys in ${namespace}`, (md, o, cb) => this.kv.KvKeys({ namespace, prefix }, md, o, cb));
    return reply.keys;
  }

  /** A driver's job; `submissionId` and `runtimeEnvJson` are set for a submitted job's driver and for a runtime env. */
  async registerJob(request: RegisterJobRequest): Promise<string> {
    const reply = await this.callOnce<{ jobId: string }>((md, o, cb) => this.job.RegisterJob(request, md, o, cb));
    return reply.jobId;
  }

  async finishJob(jobId: string): Promise<void> {
    await this.callOnce((md, o, cb) => this.job.FinishJob({ jobId }, md, o, cb));
  }

  /** The job's resolved runtime env (JSON, '' for none); `found` false for a job the head does not know. */
  getJobRuntimeEnv(jobId: string): Promise<GetJobRuntimeEnvReply__Output> {
    return this.call(`reading job ${jobId}'s runtime env`, (md, o, cb) => this.job.GetJobRuntimeEnv({ jobId }, md, o, cb));
  }

  /** A raylet tells the head what became of a submitted job's driver it runs. */
  async reportJobDriver(state: JobDriverState): Promise<void> {
    await this.callOnce((md, o, cb) => this.job.ReportJobDriver(state, md, o, cb));
  }

  /** Creates made in one turn of the event loop go to the head in one call. */
  private readonly groupCreates = new TurnBatcher<CreatePlacementGroupRequest, PlacementGroupInfo__Output>(async (groups) => {
    const reply = await this.call<CreatePlacementGroupsReply__Output>(`creating ${groups.length === 1 ? 'a placement group' : `${groups.length} placement groups`}`, (md, o, cb) => this.placementGroup.CreatePlacementGroups({ groups }, md, o, cb));
    return reply.results.map((r) => (r.errorCode === 0 && r.group
      ? { ok: true, value: r.group }
      : { ok: false, error: toRaytsError({ code: r.errorCode, details: r.errorMessage }, this.address, 'head') }));
  });

  private readonly groupRemovals = new TurnBatcher<string, boolean>(async (placementGroupIds) => {
    const reply = await this.call<{ removed: boolean[] }>('removing placement groups', (md, o, cb) => this.placementGroup.RemovePlacementGroups({ placementGroupIds }, md, o, cb));
    return reply.removed.map((value) => ({ ok: true, value }));
  });

  createPlacementGroup(request: CreatePlacementGroupRequest): Promise<PlacementGroupInfo__Output> {
    return this.groupCreates.add(request);
  }

  /** False when the group was unknown or already removed. */
  removePlacementGroup(placementGroupId: string): Promise<boolean> {
    return this.groupRemovals.add(placementGroupId);
  }

  /** With minVersion and waitMs: a long poll that answers once the group changed (or waitMs passed). */
  async getPlacementGroup(request: GetPlacementGroupRequest): Promise<PlacementGroupInfo__Output | undefined> {
    const timeoutMs = this.options.timeoutMs + (request.waitMs ?? 0);
    const reply = await this.call<{ found: boolean; group: PlacementGroupInfo__Output | null }>('reading a placement group',
      (md, o, cb) => this.placementGroup.GetPlacementGroup(request, md, o, cb), timeoutMs);
    return reply.found && reply.group ? reply.group : undefined;
  }

  async listPlacementGroups(): Promise<PlacementGroupInfo__Output[]> {
    const reply = await this.call<{ groups: PlacementGroupInfo__Output[] }>('listing the placement groups', (md, o, cb) => this.placementGroup.ListPlacementGroups({}, md, o, cb));
    return reply.groups;
  }

  close(): void {
    for (const client of [this.cluster, this.node, this.kv, this.job, this.placementGroup] as grpc.Client[]) client.close();
  }
}
