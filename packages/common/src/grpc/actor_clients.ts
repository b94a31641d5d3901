/** Typed clients of the actor services: the head's directory (callers, raylets) and a raylet's actor hosting (the head, raylets). */
import type * as grpc from '@grpc/grpc-js';
import { raytsProto } from './proto.js';
import { makeClient, patientCall, unaryCall, type ClientOptions, type UnaryInvoker } from './client.js';
import type { ActorServiceClient } from '../generated/rayts/v1/ActorService.js';
import type { ActorHostServiceClient } from '../generated/rayts/v1/ActorHostService.js';
import type { ActorSpec } from '../generated/rayts/v1/ActorSpec.js';
import type { ActorInfo__Output } from '../generated/rayts/v1/ActorInfo.js';
import type { CreateActorReply__Output } from '../generated/rayts/v1/CreateActorReply.js';
import type { TaskSpec } from '../generated/rayts/v1/TaskSpec.js';
import type { TaskOutcome__Output } from '../generated/rayts/v1/TaskOutcome.js';

/** Head side: register, look up, follow and kill actors. */
export class GcsActorClient {
  private readonly client: ActorServiceClient;

  constructor(readonly address: string, private readonly options: ClientOptions) {
    this.client = makeClient(raytsProto().ActorService, address, options);
  }

  /** A call that waits for a head that is away, when the client was given patience. */
  private call<Res>(what: string, invoke: UnaryInvoker<Res>, timeoutMs = this.options.timeoutMs): Promise<Res> {
    return patientCall(this.options.patience, what, () => this.callOnce(invoke, timeoutMs));
  }

  private callOnce<Res>(invoke: UnaryInvoker<Res>, timeoutMs = this.options.timeoutMs): Promise<Res> {
    return unaryCall(invoke, timeoutMs, this.address, 'head');
  }

  /** Idempotent: the head answers a registration it already has with the actor's record. */
  async registerActor(spec: ActorSpec): Promise<ActorInfo__Output> {
    const reply = await this.call<{ actor: ActorInfo__Output | null }>(`registering actor ${spec.actorId ?? ''}`, (md, o, cb) => this.client.RegisterActor({ spec }, md, o, cb));
    return reply.actor!;
  }

  /**
   * The actor's record; with minVersion > 0 the head answers once the record is newer, or after
   * waitMs. Fails at once when no head answers: the actor watch asking it retries on its own.
   */
  getActor(actorId: string, minVersion = 0, waitMs = 0): Promise<ActorInfo__Output> {
    return this.callOnce((md, o, cb) => this.client.GetActor({ actorId, minVersion, waitMs }, md, o, cb), this.options.timeoutMs + waitMs);
  }

  getNamedActor(name: string, namespace: string): Promise<ActorInfo__Output> {
    return this.call(`looking up actor '${name}' in namespace '${namespace}'`, (md, o, cb) => this.client.GetNamedActor({ name, namespace }, md, o, cb));
  }

  async killActor(actorId: string, noRestart: boolean): Promise<void> {
    await this.call(`killing actor ${actorId}`, (md, o, cb) => this.client.KillActor({ actorId, noRestart }, md, o, cb));
  }

  async listActors(includeDead: boolean): Promise<ActorInfo__Output[]> {
    const reply = await this.call<{ actors: ActorInfo__Output[] }>('listing the actors', (md, o, cb) => this.client.ListActors({ includeDead }, md, o, cb));
    return reply.actors;
  }

  async reportActorDeath(actorId: string, nodeId: string, workerId: string, reason: string): Promise<void> {
    await this.callOnce((md, o, cb) => this.client.ReportActorDeath({ actorId, nodeId, workerId, reason }, md, o, cb));
  }

  close(): void {
    (this.client as grpc.Client).close();
  }
}

/** Raylet side: host an actor, kill it, run a call for a caller on another node. */
export class ActorHostClient {
  private readonly client: ActorHostServiceClient;

  constructor(readonly address: string, private readonly options: ClientOptions) {
    this.client = makeClient(raytsProto().ActorHostService, address, options);
  }

  /** Waits (no deadline) while the raylet finds resources and a worker and the constructor runs. */
  createActor(spec: ActorSpec, numRestarts: number, classDescriptor?: Buffer): Promise<CreateActorReply__Output> {
    return unaryCall((md, _o, cb) => this.client.CreateActor({ spec, numRestarts, classDescriptor }, md, {}, cb), 0, this.address, 'raylet');
  }

  async killActorWorker(actorId: string, reason: string): Promise<boolean> {
    const reply = await unaryCall<{ found: boolean }>((md, o, cb) => this.client.KillActorWorker({ actorId, reason }, md, o, cb), this.options.timeoutMs, this.address, 'raylet');
    return reply.found;
  }

  /** Runs one actor call there; no deadline (a call may run long). */
  pushActorTask(actorId: string, workerId: string, task: TaskSpec): Promise<TaskOutcome__Output> {
    return unaryCall((md, _o, cb) => this.client.PushActorTask({ actorId, workerId, task }, md, {}, cb), 0, this.address, 'raylet');
  }

  close(): void {
    (this.client as grpc.Client).close();
  }
}
