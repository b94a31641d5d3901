/**
 * Gang scheduling: a STRICT_SPREAD placement group reserves one CPU on each of N distinct nodes,
 * all or nothing, and one worker actor is started in each bundle. Each worker computes a partial sum
 * over its shard; the driver combines them. On a one-node cluster a STRICT_SPREAD group of 2 could
 * never be placed, so the example sizes the gang to the number of alive nodes.
 *
 * It prints where each worker ran (one per node), checks the total, removes the group and checks
 * that every CPU is free again.
 *
 *   npx tsc -p examples && node examples/dist/gang_workers.js
 */
import * as ray from 'rayts';

const SHARD = 250_000;

const ShardWorker = ray.remote(class ShardWorker {
  constructor(private readonly rank: number) {}

  async sumShard(size: number): Promise<{ rank: number; node: string; sum: number }> {
    const ray = await import('rayts');
    let sum = 0;
    for (let i = this.rank * size; i < (this.rank + 1) * size; i++) sum += i;
    return { rank: this.rank, node: ray.getRuntimeContext().nodeIp, sum };
  }
});

await ray.init();
try {
  const nodes = (await ray.nodes()).filter((n) => n.Alive);
  const size = nodes.length;
  const pg = ray.placementGroup(Array.from({ length: size }, () => ({ CPU: 1 })), { strategy: 'STRICT_SPREAD' });
  await pg.ready();
  console.log(`placement group of ${size} bundle(s) ready (STRICT_SPREAD over ${size} node(s))`);

  const workers = Array.from({ length: size }, (_, rank) =>
    ShardWorker.options({ numCpus: 1, placementGroup: pg, bundleIndex: rank }).remote(rank));
  const parts = await ray.get(workers.map((w) => w.sumShard.remote(SHARD)));
  for (const p of parts) console.log(`  worker ${p.rank} on ${p.node}: ${p.sum}`);
  const distinct = new Set(parts.map((p) => p.node)).size;
  const total = parts.reduce((a, p) => a + p.sum, 0);
  const n = size * SHARD;
  const expected = ((n - 1) * n) / 2;
  console.log(`${size} workers on ${distinct} distinct node(s); total ${total}, expected ${expected}`);
  if (distinct !== size || total !== expected) throw new Error('the gang was not spread or the sum is wrong');

  for (const w of workers) await ray.kill(w);
  await ray.removePlacementGroup(pg);
  const deadline = Date.now() + 20_000;
  let free = false;
  while (!free && Date.now() < deadline) {
    const [total, available] = [await ray.clusterResources(), await ray.availableResources()];
    free = available.CPU === total.CPU;
    if (!free) await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`group removed, all CPUs free: ${free ? 'yes' : 'NO'}`);
  if (!free) throw new Error('CPUs were not freed');
  console.log('gang workers (ok)');
} finally {
  await ray.shutdown();
}
