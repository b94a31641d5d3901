/**
 * Creating actors: the class goes to the head's function table, the constructor's arguments are
 * resolved, this node's raylet is asked to start the actor at once (so its construction overlaps the
 * registration), and the actor is registered with the head, which places it where the raylet
 * started it. What the caller may do meanwhile:
 * - an unnamed actor takes its creator's calls as soon as the raylet says it is constructed, and its
 *   registration waits a little for that word, so the registration's work does not compete with the
 *   construction on a small machine;
 * - a named actor's calls wait for the head's answer (its name may be taken); a refused
 *   registration makes the creator ask the raylet to drop what it started.
 */
import { randomBytes } from 'node:crypto';
import type { ActorSpecMsg } from '@rayts/common';
import type { ActorCallerConfig, ActorCore, ActorDirectory, ActorTarget } from './actor_core.js';
import type { ActorQueue } from './actor_queue.js';
import { argToMsg } from './actor_spec.js';
import { functionDescriptorBytes, type RemoteFunctionDescriptor } from '../function/descriptor.js';
import { actorCreationInfo } from '../event_report.js';
import { actorCreationTaskId } from '../ids.js';
import { ObjectRef } from '../object_ref.js';

export interface ActorCreatorDeps {
  readonly core: Pick<ActorCore, 'address' | 'request' | 'exportFunction' | 'resolveArg' | 'events' | 'submitterTaskId' | 'references'>;
  readonly head: Pick<ActorDirectory, 'registerActor'>;
  readonly config: Pick<ActorCallerConfig, 'actorLocalStartRegisterWaitMs'>;
}

/** The spec of a new actor as its creator gives it: everything but its id and resolved arguments. */
export type NewActorSpec = Omit<ActorSpecMsg, 'actorId' | 'args'>;

/** One actor this process is registering with the head. */
class Registration {
  /** The raylet's word that it constructed the actor (for a named actor, held back until the head accepts it). */
  startedAt?: ActorTarget;
  /** Where the creation's task events are (a hint for the buffer). */
  events = -1;
  private wake?: () => void;

  constructor(readonly queue: ActorQueue, readonly named: boolean, readonly done: Promise<void>) {}

  started(at: ActorTarget): void {
    this.startedAt = at;
    this.wake?.();
  }

  /** Resolves when the raylet says the actor is constructed, or after `waitMs`. */
  waitStarted(waitMs: number): Promise<void> {
    if (this.startedAt) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.wake = undefined; resolve(); };
      const timer = setTimeout(done, waitMs);
      this.wake = done;
    });
  }
}

export class ActorCreator {
  /** Registrations in flight, by actor id. */
  private readonly registrations = new Map<string, Registration>();

  constructor(private readonly deps: ActorCreatorDeps) {}

  /** A fresh actor id. */
  newActorId(): string {
    return randomBytes(16).toString('hex');
  }

  /** Registers the actor of `queue` (in state registering) with the head, in the background. */
  create(queue: ActorQueue, desc: RemoteFunctionDescriptor, args: unknown[], spec: NewActorSpec): void {
    let settled!: () => void;
    const r = new Registration(queue, !!spec.name, new Promise<void>((resolve) => (settled = resolve)));
    this.registrations.set(queue.actorId, r);
    const { core } = this.deps;
    r.events = core.events.submitted(actorCreationTaskId(queue.actorId), 0, spec.jobId ?? '',
      actorCreationInfo(spec.className ?? '', queue.actorId, core.submitterTaskId, spec.placementResources as Record<string, number>));
    void this.register(r, desc, args, spec).finally(() => {
      this.registrations.delete(queue.actorId);
      settled();
    });
  }

  /** This node's raylet constructed an actor this process created. */
  onStartedHere(queue: ActorQueue, at: ActorTarget): void {
    const r = this.registrations.get(queue.actorId);
    r?.started(at);
    // A named actor's calls wait for the head: it may refuse the name.
    if (!r?.named) queue.startedHere(at);
  }

  /** Resolves once the head has the actor (or refused it); at once when it is not being registered. */
  async whenRegistered(actorId: string): Promise<void> {
    await this.registrations.get(actorId)?.done;
  }

  /** Resolves once every registration in flight is answered: before a driver's job ends. */
  async settle(): Promise<void> {
    await Promise.all([...this.registrations.values()].map((r) => r.done));
  }

  private async register(r: Registration, desc: RemoteFunctionDescriptor, args: unknown[], spec: NewActorSpec): Promise<void> {
    const { core, head, config } = this.deps;
    const actorId = r.queue.actorId;
    let reservedNodeId = '';
    // The class goes to the head's function table (restarts load it from there) while the local
    // raylet, which is handed the class itself, starts the actor.
    const exported = core.exportFunction(desc);
    exported.catch(() => undefined); // awaited below
    // A restart runs the constructor again with the same arguments: refs it takes are kept for good.
    for (const a of args) if (a instanceof ObjectRef) core.references.capture(a.id);
    try {
      const resolved = await Promise.all(args.map((a, i) => core.resolveArg(a, i, `the constructor of ${spec.className}`)));
      const full: ActorSpecMsg = { ...spec, actorId, args: resolved.map(argToMsg) };
      r.events = core.events.sentToRaylet(actorCreationTaskId(actorId), 0, spec.jobId ?? '', r.events);
      reservedNodeId = await this.reserveHere(r.queue, desc, full);
      // An unnamed actor started here takes its first calls before the head hears of it: on two
      // vCPUs the registration's gRPC work would otherwise compete with the construction.
      if (reservedNodeId && !r.named) await r.waitStarted(config.actorLocalStartRegisterWaitMs);
      await exported;
      const info = await head.registerActor({ ...full, reservedNodeId });
      r.queue.registered(info, r.named ? r.startedAt : undefined);
    } catch (err) {
      if (reservedNodeId) void core.request({ type: 'releaseActor', actorId }).catch(() => undefined);
      const error = err as Error;
      core.events.failed(actorCreationTaskId(actorId), 0, spec.jobId ?? '', { errorType: 'ACTOR_CREATION_FAILED', message: `${error.name}: ${error.message}` }, r.events);
      r.queue.die({ type: 'ACTOR_DIED', message: `the actor could not be created: ${error.message}`, actorId, deathCause: 'CREATION_FAILED', errorName: error.name });
    }
  }

  /**
   * Asks this node's raylet to start the actor at once, so its construction overlaps the head's
   * registration (the head then places it there): the node id when it did, '' when the actor must
   * be placed by the head (not the DEFAULT strategy, in a placement group, or no room here now).
   */
  private async reserveHere(queue: ActorQueue, desc: RemoteFunctionDescriptor, spec: ActorSpecMsg): Promise<string> {
    const inGroup = Object.keys(spec.placementResources ?? {}).some((k) => k.includes('_group_'));
    if ((spec.strategy?.kind ?? 'DEFAULT') !== 'DEFAULT' || inGroup) return '';
    const { core } = this.deps;
    try {
      const reply = await core.request({ type: 'reserveActor', spec, classDescriptor: functionDescriptorBytes(desc) });
      if (!reply.ok) return '';
      const started = reply.info as { workerId: string; socketPath: string };
      queue.connectEarly({ nodeId: core.address.nodeId, ...started });
      return core.address.nodeId;
    } catch {
      return ''; // the head places it
    }
  }
}
