/**
 * Ray's task and object microbenchmarks with Ray's names and semantics.
 * Each case is a function of the initialised runtime; bodies match ray_perf.py's.
 */
import * as ray from '@rayts/api';
import type { ObjectRef } from '@rayts/api';
import { UsageError } from '@rayts/common';
import { timeit, type TimeitOptions, type TimingResult } from './timeit.js';

/** The resource ray_perf.py's cluster has ({"custom": 100}) and placement_group_create/removal reserves. */
export const BENCH_CUSTOM_RESOURCE = 'custom';

/** ray_perf.py's placement_group_create/removal body: 100 groups of one tiny bundle, ready, removed. */
async function placementGroupCreateRemoval(): Promise<void> {
  const groups = Array.from({ length: 100 }, () => ray.placementGroup([{ [BENCH_CUSTOM_RESOURCE]: 0.001 }]));
  for (const pg of groups) if (!(await pg.wait(30))) throw new Error(`placement group ${pg.id} was not ready within 30 s`);
  await Promise.all(groups.map((pg) => ray.removePlacementGroup(pg)));
}

export interface BenchCase {
  name: string;
  run(options: TimeitOptions): Promise<TimingResult>;
}

const smallValue = ray.remote(() => 'ok');

const doPutSmall = ray.remote(async () => {
  const ray = await import('rayts');
  for (let i = 0; i < 100; i++) await ray.put(0);
  return 0;
});

const doPutLarge = ray.remote(async () => {
  const ray = await import('rayts');
  // 10 × 80 MiB of int64 zeros, as Ray's multi_client_put_gigabytes. Ray frees each object as soon as
  // its ref is dropped (CPython's refcount); a JS ref lives until the job ends, so it is freed here
  // (as single_client_put_gigabytes does), or 10 tasks × 800 MiB per round would spill to disk.
  for (let i = 0; i < 10; i++) await ray.free([await ray.put(new BigInt64Array(10 * 1024 * 1024))]);
  return 0;
});

/** Ray's `Actor` with `small_value_batch`: an actor that submits n no-op tasks and gets them. */
const Submitter = ray.remote({ numCpus: 0 }, class Submitter {
  async smallValueBatch(n: number) {
    const ray = await import('rayts');
    const small = ray.remote(() => 'ok');
    await ray.get(Array.from({ length: n }, () => small.remote()));
    return n;
  }
});

export const CASES: BenchCase[] = [
  {
    name: 'single_client_get_calls_Plasma_Store',
    async run(o) {
      const value = await ray.put(0);
      return timeit(this.name, () => ray.get(value), 1, o);
    },
  },
  { name: 'single_client_put_calls_Plasma_Store', run(o) { return timeit(this.name, () => ray.put(0), 1, o); } },
  {
    name: 'multi_client_put_calls_Plasma_Store',
    run(o) { return timeit(this.name, () => ray.get(Array.from({ length: 10 }, () => doPutSmall.remote())), 1000, o); },
  },
  {
    name: 'single_client_put_gigabytes',
    async run(o) {
      const array = new BigInt64Array(100 * 1024 * 1024); // 800 MiB, counted as 0.8 "GB" like Ray
      return timeit(this.name, async () => { const ref = await ray.put(array); await ray.free([ref]); }, 0.8, o);
    },
  },
  {
    name: 'single_client_tasks_and_get_batch',
    run(o) { return timeit(this.name, () => ray.get(Array.from({ length: 1000 }, () => smallValue.remote())), 1, o); },
  },
  {
    name: 'multi_client_put_gigabytes',
    run(o) { return timeit(this.name, () => ray.get(Array.from({ length: 10 }, () => doPutLarge.remote())), 8, o); },
  },
  {
    name: 'single_client_wait_1k_refs',
    run(o) {
      return timeit(this.name, async () => {
        let notReady: ObjectRef<string>[] = Array.from({ length: 1000 }, () => smallValue.remote());
        let first = true;
        while (notReady.length > 0) {
          [, notReady] = await ray.wait(notReady, { numReturns: 1, fetchLocal: first });
          first = false;
        }
      }, 1, o);
    },
  },
  { name: 'single_client_tasks_sync', run(o) { return timeit(this.name, () => ray.get(smallValue.remote()), 1, o); } },
  {
    name: 'single_client_tasks_async',
    run(o) { return timeit(this.name, () => ray.get(Array.from({ length: 1000 }, () => smallValue.remote())), 1000, o); },
  },
  {
    name: 'placement_group_create/removal',
    async run(o) {
      if (!((await ray.clusterResources())[BENCH_CUSTOM_RESOURCE]! > 0)) {
        throw new UsageError(`placement_group_create/removal needs a '${BENCH_CUSTOM_RESOURCE}' resource in the cluster`,
          `start a node with --resources='{"${BENCH_CUSTOM_RESOURCE}": 100}', or run without --address for a private cluster that has it`);
      }
      return timeit(this.name, placementGroupCreateRemoval, 100, o);
    },
  },
  {
    // 4 actors, each submitting 10k tasks and getting them (ray_perf.py).
    name: 'multi_client_tasks_async',
    async run(o) {
      const actors = Array.from({ length: 4 }, () => Submitter.remote());
      try {
        return await timeit(this.name, () => ray.get(actors.map((a) => a.smallValueBatch.remote(10_000))), 40_000, o);
      } finally {
        for (const a of actors) await ray.kill(a);
      }
    },
  },
];
