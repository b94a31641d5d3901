/**
 * The actor caller a core worker is built with: ActorSubmitter (creation and calls) behind the
 * facade's `ActorCallerInbox`. ActorSubmitter writes its inbox onto the object it is built with, so
 * it is given a view of the deps of its own, and the hooks stay on that view. Handles it makes are
 * bound to this caller: their calls go through the runtime that made them.
 */
import { makeActorHandle, type ActorHandleBase, type ActorHandleData } from './actor_handle.js';
import { ActorSubmitter } from './actor_submitter.js';
import type { ActorCallerDeps, ActorCallerInbox, CoreWorker as SubmitterDeps } from './caller_deps.js';
import type { ActorInfoMsgOutput, ActorSpecMsg } from '@rayts/common';
import type { RemoteFunctionDescriptor } from '../function/descriptor.js';
import type { ActorReady, TaskOutcome } from '../protocol/messages.js';

function viewOf(deps: ActorCallerDeps): SubmitterDeps {
  return Object.assign(Object.create(deps) as ActorCallerDeps, { closers: [] });
}

export class ActorCaller extends ActorSubmitter implements ActorCallerInbox {
  private readonly view: SubmitterDeps;

  constructor(deps: ActorCallerDeps, view = viewOf(deps)) {
    super(view);
    this.view = view;
  }

  override create(desc: RemoteFunctionDescriptor, data: Omit<ActorHandleData, 'actorId'>, args: unknown[], spec: Omit<ActorSpecMsg, 'actorId' | 'args'>): ActorHandleBase {
    return this.bind(super.create(desc, data, args, spec));
  }

  override handleFor(info: ActorInfoMsgOutput): ActorHandleBase {
    return this.bind(super.handleFor(info));
  }

  /** A handle (decoded from a value) whose calls go through this caller. */
  bindData(data: ActorHandleData): ActorHandleBase {
    return makeActorHandle(data, this);
  }

  handleOutcome(outcome: TaskOutcome): boolean {
    return this.view.onActorOutcome?.(outcome) ?? false;
  }

  handleActorReady(message: ActorReady): void {
    this.view.onActorReady?.(message);
  }

  private bind(handle: ActorHandleBase): ActorHandleBase {
    return this.bindData(handle.actorData);
  }
}
