import { describe, expect, it } from 'vitest';
import { makeActorHandle, type ActorCalls, type ActorHandleBase, type ActorHandleData } from './actor/actor_handle.js';
import { ObjectRef } from './object_ref.js';
import { Serializer, encode } from './serialization.js';

const DATA: ActorHandleData = { actorId: 'a1', className: 'Counter', methodNames: ['incr'], maxTaskRetries: 0, maxPendingCalls: -1 };

/** Actor calls that record what was submitted through them. */
function recordingCalls(name: string, log: string[]): ActorCalls {
  return {
    submit: (data, method, args) => {
      log.push(`${name}: ${data.actorId}.${method}(${args.join(',')})`);
      return new ObjectRef('r', { nodeId: 'n', clientId: 'c' });
    },
  };
}

describe('Serializer', () => {
  it('revives actor handles bound to its own runtime, not to the one that encoded them', () => {
    const log: string[] = [];
    const mine = new Serializer((data) => makeActorHandle(data, recordingCalls('receiver', log)), { decoded: (ref) => ref });
    const sent = { handle: makeActorHandle(DATA, recordingCalls('sender', log)), ref: new ObjectRef('o1', { nodeId: 'n2', clientId: 'c2' }) };
    const back = mine.decode(encode(sent, 'a value')) as { handle: ActorHandleBase & { incr: { remote(...a: unknown[]): ObjectRef } }; ref: ObjectRef };
    back.handle.incr.remote(1);
    expect(log).toEqual(['receiver: a1.incr(1)']);
    expect(back.handle.actorData).toEqual(DATA);
    expect(back.ref).toBeInstanceOf(ObjectRef);
    expect(back.ref.owner).toEqual({ nodeId: 'n2', clientId: 'c2' });
  });

  it('a handle that belongs to no runtime cannot be called', () => {
    const handle = makeActorHandle(DATA) as ActorHandleBase & { incr: { remote(): ObjectRef } };
    expect(() => handle.incr.remote()).toThrow(/belongs to no rayts runtime/);
  });
});
