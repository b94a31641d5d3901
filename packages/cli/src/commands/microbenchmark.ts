/**
 * `rayts microbenchmark [filter]`: Ray's microbenchmarks against a private local cluster (or the
 * cluster named by --address / RAYTS_ADDRESS), printed as `name per second X +- Y`.
 */
import * as ray from '@rayts/api';
import { RayletClient, UsageError } from '@rayts/common';
import { globalWorker } from '@rayts/core-worker';
import { BENCH_CUSTOM_RESOURCE, CASES as TASK_CASES } from '../bench/cases.js';
import { ACTOR_CASES } from '../bench/actor_cases.js';

const CASES = [...TASK_CASES, ...ACTOR_CASES];
import { formatTiming, type TimingResult } from '../bench/timeit.js';
import { printJson } from '../output.js';

export interface MicrobenchmarkOptions {
  json?: boolean;
  address?: string;
  roundMs?: string;
  rounds?: string;
}

/** Waits (up to 60 s) until every node's store memory is reserved, so no case pays for it. */
async function settle(): Promise<void> {
  const core = globalWorker()!;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const nodes = await core.gcs.listNodes(false);
    const stats = await Promise.all(nodes.map(async (n) => {
      const c = new RayletClient(`${n.nodeIp}:${n.rayletPort}`, { token: core.options.token, timeoutMs: 10_000 });
      try { return await c.getNodeStats(); } finally { c.close(); }
    }));
    if (stats.every((s) => s.store?.reserved) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function microbenchmarkCommand(filter: string | undefined, options: MicrobenchmarkOptions): Promise<number> {
  const selected = CASES.filter((c) => !filter || c.name.includes(filter));
  if (selected.length === 0) throw new UsageError(`no microbenchmark matches '${filter}'`, `names: ${CASES.map((c) => c.name).join(', ')}`);
  const timing = { roundMs: options.roundMs ? Number(options.roundMs) : undefined, rounds: options.rounds ? Number(options.rounds) : undefined };
  if (!options.json) process.stderr.write(`Running ${selected.length} microbenchmark(s); pass a substring of a name to run fewer.\n`);
  // As ray_perf.py's ray.init(resources={"custom": 100}) (only a private cluster takes it):
  // placement_group_create/removal reserves bundles of that resource.
  await ray.init({ address: options.address, resources: { [BENCH_CUSTOM_RESOURCE]: 100 } });
  await settle();
  const results: TimingResult[] = [];
  try {
    for (const c of selected) {
      const r = await c.run(timing);
      results.push(r);
      if (!options.json) process.stdout.write(formatTiming(r) + '\n');
    }
  } finally {
    await ray.shutdown();
  }
  if (options.json) printJson(results.map((r) => ({ name: r.name, perSecond: r.perSecond, stddev: r.stddev, rounds: r.rounds })));
  return 0;
}
