/**
 * What the caller side of actors (creating actors, sending their calls) uses of its core worker.
 * The core worker facade satisfies it and builds the actor caller with itself.
 */
import type { MemoryStore } from '../memory_store.js';
import type { RayletTransport } from '../raylet_connection.js';
import type { RemoteFunctionDescriptor } from '../function/descriptor.js';
import type { ActorReady, Address, TaskArg, TaskOutcome } from '../protocol/messages.js';

export { functionDescriptorBytes, type RemoteFunctionDescriptor } from '../function/descriptor.js';

export interface ActorCallerDeps {
  readonly address: Address;
  readonly jobId: string;
  readonly driverNodeId: string;
  readonly options: { readonly token: string; readonly gcsAddress: string; readonly gcsTimeoutMs?: number };
  readonly store: MemoryStore;
  request: RayletTransport['request'];
  send: RayletTransport['send'];
  exportFunction(desc: RemoteFunctionDescriptor): Promise<void>;
  inlineArgs(args: unknown[], name: string): TaskArg[] | undefined;
  resolveArg(arg: unknown, index: number, taskName: string): Promise<TaskArg>;
}

/** What the facade calls on the actor caller: results and readiness the raylet pushes, and shutdown. */
export interface ActorCallerInbox {
  /** True when the outcome was an actor call's (relayed through the raylet). */
  handleOutcome(outcome: TaskOutcome): boolean;
  /** An actor this process created on its own node is constructed. */
  handleActorReady(message: ActorReady): void;
  close(): void;
}

/**
 * The deps as today's ActorSubmitter takes them: it still writes its inbox back onto them
 * (`ActorCaller` reads it from there and exposes `ActorCallerInbox`).
 */
export interface CoreWorker extends ActorCallerDeps {
  onActorOutcome?: (outcome: TaskOutcome) => boolean;
  onActorReady?: (message: ActorReady) => void;
  closers: (() => void)[];
}
