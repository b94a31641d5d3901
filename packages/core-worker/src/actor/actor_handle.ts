/**
 * An actor handle: the actor's id plus what a caller needs to call it (its methods and retry
 * settings). `handle.method.remote(...)` submits a call through the runtime that made the handle:
 * the actor caller that created or looked it up, or the serializer that decoded it. Handles travel
 * inside values (to tasks and other actors) as a wire string, like ObjectRefs, and come back to life
 * as handles on the other side.
 */
import { RaytsError } from '@rayts/common';
import { ActorMethodNotFoundError } from '../errors.js';
import type { ObjectRef } from '../object_ref.js';


export interface ActorHandleData {
  actorId: string;
  className: string;
  methodNames: string[];
  /** -1 = no limit. */
  maxTaskRetries: number;
  /** -1 = no limit. */
  maxPendingCalls: number;
}

/** Where a handle's calls go: the actor caller of the runtime the handle belongs to. */
export interface ActorCalls {
  submit(data: ActorHandleData, method: string, args: unknown[]): ObjectRef;
}

export const ACTOR_WIRE_PREFIX = 'actor|';

/** The target of every handle proxy (so `instanceof ActorHandleBase` holds for handles). */
export class ActorHandleBase {
  constructor(readonly actorData: ActorHandleData) {}

  get actorId(): string {
    return this.actorData.actorId;
  }

  toString(): string {
    return `Actor(${this.actorData.className}, ${this.actorData.actorId})`;
  }
}

export interface ActorMethodStub {
  remote(...args: unknown[]): ObjectRef;
}

/** Property names callers and tools probe on any object; they are not method calls. */
const NOT_METHODS = new Set(['then', 'toJSON', 'constructor', 'inspect', 'asymmetricMatch', '$$typeof', 'nodeType', 'prototype']);

/**
 * A handle whose calls go to `calls`. Without it (only the data is known) a call fails: a handle
 * must come from a runtime to be called.
 */
export function makeActorHandle(data: ActorHandleData, calls?: ActorCalls): ActorHandleBase {
  const stubs = new Map<string, ActorMethodStub>();
  return new Proxy(new ActorHandleBase(data), {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || prop in target) return Reflect.get(target, prop, receiver);
      if (NOT_METHODS.has(prop)) return undefined;
      let stub = stubs.get(prop);
      if (!stub) {
        const method = prop;
        stub = {
          remote: (...args: unknown[]) => {
            if (!data.methodNames.includes(method)) {
              throw new ActorMethodNotFoundError(`${data.className} has no method '${method}'`,
                `its methods are: ${data.methodNames.join(', ') || '(none)'}`);
            }
            if (!calls) throw new RaytsError(`the handle of ${data.className} belongs to no rayts runtime`, 'call `await ray.init()` first');
            return calls.submit(data, method, args);
          },
        };
        stubs.set(prop, stub);
      }
      return stub;
    },
  });
}

export function actorWireId(h: ActorHandleBase): string {
  return ACTOR_WIRE_PREFIX + JSON.stringify(h.actorData);
}

export function parseActorWireId(wire: string): ActorHandleData {
  return JSON.parse(wire.slice(ACTOR_WIRE_PREFIX.length)) as ActorHandleData;
}
