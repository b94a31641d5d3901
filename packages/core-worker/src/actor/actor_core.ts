/**
 * What the caller side of actors (creator, queues, transport) needs from outside: of its process's
 * core worker, of the head's actor directory, and of the tunables. The core worker and the head's
 * client provide these; unit tests fake them.
 */
import type { ActorInfoMsgOutput, ActorSpecMsg, Config, TlsFiles } from '@rayts/common';
import type { ReferenceTable } from '../reference_table.js';
import type { MemoryStore } from '../memory_store.js';
import type { RemoteFunctionDescriptor } from '../function/descriptor.js';
import type { OwnerTaskEvents } from '../task_event_buffer.js';
import type { ActorCallRelay, Address, ClientRequest, Reply, TaskArg } from '../protocol/messages.js';

type RequestOf<T extends ClientRequest['type']> = Omit<Extract<ClientRequest, { type: T }>, 'reqId'>;

/** The part of the core worker that creating and calling actors uses. */
export interface ActorCore {
  /** This process (its node and client id): the owner of every call's result. */
  readonly address: Address;
  /** The node whose actor workers this process can call over their sockets ('' for a remote client: none). */
  readonly localNodeId: string;
  readonly jobId: string;
  /** The node of the driver whose job this process works for ('' in a driver). */
  readonly driverNodeId: string;
  /** The task submitting now (the parent of the calls and actors it makes). */
  readonly submitterTaskId: string;
  /** Task events of the calls and creations this process owns. */
  readonly events: OwnerTaskEvents;
  readonly options: { readonly token: string; readonly gcsAddress: string; readonly gcsTimeoutMs?: number; readonly tls?: TlsFiles };
  /** Where call results are kept until `get`. */
  readonly store: Pick<MemoryStore, 'addPending' | 'resolve' | 'onSettled'>;
  /** Counts the refs of call results, and the refs calls and constructors take (ReferenceTable). */
  readonly references: Pick<ReferenceTable, 'created' | 'addPendingArgs' | 'releasePendingArgs' | 'capture'>;
  /** Asks this node's raylet to start an actor here at once, or to drop one it started. */
  request(message: RequestOf<'reserveActor'> | RequestOf<'releaseActor'>): Promise<Reply>;
  /** Relays a call through this node's raylet to an actor on another node. */
  send(message: ActorCallRelay): void;
  /** Puts a class into the head's function table (restarts load it from there). */
  exportFunction(desc: RemoteFunctionDescriptor): Promise<void>;
  /** Arguments encoded inline now, or undefined when one needs the asynchronous path; may throw. */
  inlineArgs(args: unknown[], name: string): TaskArg[] | undefined;
  /** One argument resolved (a ref awaited, a large value stored); rejects with `{ failure }` for a failed ref. */
  resolveArg(arg: unknown, index: number, taskName: string): Promise<TaskArg>;
}

/** The head's actor directory as callers use it (GcsActorClient provides it). */
export interface ActorDirectory {
  registerActor(spec: ActorSpecMsg): Promise<ActorInfoMsgOutput>;
  /** The actor's record; with minVersion > 0 the head answers once it is newer, or after waitMs. */
  getActor(actorId: string, minVersion: number, waitMs: number): Promise<ActorInfoMsgOutput>;
  killActor(actorId: string, noRestart: boolean): Promise<void>;
}

/** Where calls go: the actor's node and worker, and its socket for callers on that node. */
export type ActorTarget = Pick<ActorInfoMsgOutput, 'nodeId' | 'workerId' | 'socketPath'>;

/** The tunables of the caller side (config.ts has their meaning). */
export type ActorCallerConfig = Pick<Config,
  'actorWatchWaitMs' | 'actorWatchRetryMs' | 'actorLostCallWaitMs' | 'actorEarlyConnectMs' | 'actorLocalStartRegisterWaitMs' | 'gcsRpcTimeoutMs'
  | 'gcsReconnectTimeoutS' | 'gcsRetryInitialBackoffMs' | 'gcsRetryMaxBackoffMs'>;
