/**
 * Ray's actor microbenchmarks with Ray's names and semantics: `Actor`
 * and `AsyncActor` hold no CPU, `Client` actors hold handles and call them in batches. n is Ray's
 * `cpu_count // 2` (at least 1).
 */
import { availableParallelism } from 'node:os';
import * as ray from '@rayts/api';
import { timeit } from './timeit.js';
import type { BenchCase } from './cases.js';

const Actor = ray.remote({ numCpus: 0 }, class Actor {
  smallValue() { return 'ok'; }
  smallValueArg(x: unknown) { return x === undefined ? 'ok' : 'ok'; }
  smallValueBatch(n: number) { return n; }
});

const AsyncActor = ray.remote({ numCpus: 0 }, class AsyncActor {
  async smallValue() { return 'ok'; }
  async smallValueWithArg(i: number) { return i >= 0 ? 'ok' : 'no'; }
});

type ActorHandleOf = ray.ActorHandle<{ smallValue(): string; smallValueArg(x: unknown): string }>;

const Client = ray.remote({ numCpus: 0 }, class Client {
  constructor(private readonly servers: ActorHandleOf[]) {}
  async smallValueBatch(n: number) {
    const ray = await import('rayts');
    const refs = [];
    for (let i = 0; i < n; i++) for (const s of this.servers) refs.push(s.smallValue.remote());
    await ray.get(refs);
    return n;
  }
  async smallValueBatchArg(n: number) {
    const ray = await import('rayts');
    const x = await ray.put(0);
    const refs = [];
    for (let i = 0; i < n; i++) for (const s of this.servers) refs.push(s.smallValueArg.remote(x));
    await ray.get(refs);
    return n;
  }
});

const workRoundRobin = ray.remote({ numCpus: 0 }, async (actors: ActorHandleOf[], n: number) => {
  const ray = await import('rayts');
  const refs = [];
  for (let i = 0; i < n; i++) refs.push(actors[i % actors.length]!.smallValue.remote());
  await ray.get(refs);
  return n;
});

const nCpu = (): number => Math.max(1, Math.floor(availableParallelism() / 2));

async function ready(handles: { smallValue: { remote(): ray.ObjectRef<unknown> } }[]): Promise<void> {
  await ray.get(handles.map((h) => h.smallValue.remote()));
}

async function withActors<T>(handles: ray.ActorHandle<unknown>[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } finally {
    for (const h of handles) await ray.kill(h).catch(() => undefined);
  }
}

type SmallValueHandle = { smallValue: { remote(): ray.ObjectRef<unknown> } } & ray.ActorHandle<unknown>;

/** A case on one fresh actor: `body` is timed against it, the actor is killed after. */
function oneActor<H extends SmallValueHandle>(name: string, make: () => H, body: (a: H) => Promise<unknown>, multiplier: number): BenchCase {
  return {
    name,
    async run(o) {
      const a = make();
      await ready([a]);
      return withActors([a], () => timeit(name, () => body(a), multiplier, o));
    },
  };
}

const thousand = <T>(call: (i: number) => ray.ObjectRef<T>) => ray.get(Array.from({ length: 1000 }, (_, i) => call(i)));

export const ACTOR_CASES: BenchCase[] = [
  oneActor('1_1_actor_calls_sync', () => Actor.remote(), (a) => ray.get(a.smallValue.remote()), 1),
  oneActor('1_1_actor_calls_async', () => Actor.remote(), (a) => thousand(() => a.smallValue.remote()), 1000),
  oneActor('1_1_actor_calls_concurrent', () => Actor.options({ maxConcurrency: 16 }).remote(), (a) => thousand(() => a.smallValue.remote()), 1000),
  {
    name: '1_n_actor_calls_async',
    async run(o) {
      const actors = Array.from({ length: nCpu() }, () => Actor.remote());
      await ready(actors);
      const client = Client.remote(actors as unknown as ActorHandleOf[]);
      return withActors([...actors, client], () => timeit('1_n_actor_calls_async', () => ray.get(client.smallValueBatch.remote(5000)), 5000 * actors.length, o));
    },
  },
  {
    name: 'n_n_actor_calls_async',
    async run(o) {
      const actors = Array.from({ length: nCpu() }, () => Actor.remote());
      await ready(actors);
      const m = 4;
      return withActors(actors, () => timeit('n_n_actor_calls_async',
        () => ray.get(Array.from({ length: m }, () => workRoundRobin.remote(actors as unknown as ActorHandleOf[], 5000))), m * 5000, o));
    },
  },
  {
    name: 'n_n_actor_calls_with_arg_async',
    async run(o) {
      const n = nCpu();
      const servers = Array.from({ length: n }, () => Actor.remote());
      await ready(servers);
      const clients = servers.map((s) => Client.remote([s as unknown as ActorHandleOf]));
      return withActors([...servers, ...clients], () => timeit('n_n_actor_calls_with_arg_async',
        () => ray.get(clients.map((c) => c.smallValueBatchArg.remote(1000))), 1000 * n, o));
    },
  },
  oneActor('1_1_async_actor_calls_sync', () => AsyncActor.remote(), (a) => ray.get(a.smallValue.remote()), 1),
  oneActor('1_1_async_actor_calls_async', () => AsyncActor.remote(), (a) => thousand(() => a.smallValue.remote()), 1000),
  oneActor('1_1_async_actor_calls_with_args_async', () => AsyncActor.remote(), (a) => thousand((i) => a.smallValueWithArg.remote(i)), 1000),
];
