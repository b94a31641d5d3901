/**
 * GPU assignment on a real node started with `--num-gpus=4` (no GPU needed: the raylet hands out
 * ids 0..3 as Ray does). Whole-GPU tasks running together get distinct ids and see them in
 * CUDA_VISIBLE_DEVICES, getGpuIds() and getRuntimeContext().gpuIds; two 0.5-GPU tasks share one id;
 * CPU-only tasks on reused workers see no GPU; an actor with numGpus 1 keeps its id on every call
 * and nobody else gets it while it lives; once it is killed its id is handed out again; tasks in a
 * placement group's GPU bundles get ids that do not collide with tasks outside it.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

interface Seen { ids: number[]; ctx: number[]; cvd: string | null; pid: number }
interface Result {
  whole: Seen[]; halves: Seen[]; cpuOnly: Seen[]; actorCalls: Seen[]; whileActor: Seen[]; afterActor: Seen[];
  withGroup: { inGroup: Seen[]; outside: Seen[] };
  driver: { ids: number[]; ctx: number[] };
}

const newCluster = useCluster();

/** Each saw the same ids through all three ways, CUDA_VISIBLE_DEVICES being them comma-separated. */
function consistent(seen: Seen[]): void {
  for (const s of seen) {
    expect(s.ctx).toEqual(s.ids);
    expect(s.cvd).toBe(s.ids.length ? s.ids.join(',') : null);
  }
}

describe('GPUs', () => {
  it('tasks and actors get their own GPU ids; fractions share; an actor keeps its id for life', async () => {
    // A pool of 4 workers that stays (idle extras are not reaped), so later rounds reuse the workers of earlier ones.
    const cluster = newCluster({ RAYTS_PRESTART_WORKERS: '4', RAYTS_NVIDIA_SMI: '/nonexistent/nvidia-smi' });
    const head = await cluster.startHead({ numCpus: 8, args: ['--num-gpus=4'] });
    const status = await cluster.statusJson(head.tempDir);
    expect(status.nodes.active[0]?.resourcesTotal.GPU).toBe(4);

    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'gpus/gpu_ids.mjs', { address: head.gcsAddress, barrierDir: join(dir, 'barriers') });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const r = resultOf<Result>(run);
    consistent([...r.whole, ...r.halves, ...r.cpuOnly, ...r.actorCalls, ...r.whileActor, ...r.afterActor, ...r.withGroup.inGroup, ...r.withGroup.outside]);

    // Four 1-GPU tasks running together: four distinct single ids, 0..3.
    expect(r.whole.map((s) => s.ids.length)).toEqual([1, 1, 1, 1]);
    expect(r.whole.flatMap((s) => s.ids).sort()).toEqual([0, 1, 2, 3]);

    // Two 0.5-GPU tasks running together share one id.
    expect(r.halves[0]!.ids).toHaveLength(1);
    expect(r.halves[1]!.ids).toEqual(r.halves[0]!.ids);

    // CPU-only tasks see no GPU, also on a worker that ran a GPU task before.
    expect(r.cpuOnly.every((s) => s.ids.length === 0 && s.cvd === null)).toBe(true);
    const gpuPids = new Set([...r.whole, ...r.halves].map((s) => s.pid));
    expect(r.cpuOnly.some((s) => gpuPids.has(s.pid))).toBe(true);

    // The actor: one id, the same on every call, in the same process.
    const [first] = r.actorCalls;
    expect(first!.ids).toHaveLength(1);
    for (const call of r.actorCalls) expect(call).toEqual(first);
    // While it lives, four 1-GPU tasks share the other three ids: the actor's id is never given out.
    const actorId = first!.ids[0]!;
    const whileIds = r.whileActor.flatMap((s) => s.ids);
    expect(whileIds).toHaveLength(4);
    expect(whileIds).not.toContain(actorId);
    expect(new Set(whileIds).size).toBe(3);
    // Once it is killed, its id comes back: four tasks together take all four again.
    expect(r.afterActor.flatMap((s) => s.ids).sort()).toEqual([0, 1, 2, 3]);

    // Tasks in a placement group's GPU bundles and tasks outside it, all running together: four distinct ids.
    expect([...r.withGroup.inGroup, ...r.withGroup.outside].flatMap((s) => s.ids).sort()).toEqual([0, 1, 2, 3]);

    // A driver holds no GPU.
    expect(r.driver).toEqual({ ids: [], ctx: [] });
  });

  it("a raylet started with CUDA_VISIBLE_DEVICES hands out those devices; --num-gpus beyond them is refused", async () => {
    const cluster = newCluster({ RAYTS_NVIDIA_SMI: '/nonexistent/nvidia-smi' });
    const refused = await cluster.rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1',
      `--temp-dir=${cluster.tempDir('refused')}`, '--num-cpus=2', '--num-gpus=3', '--object-store-memory=100MiB'], { CUDA_VISIBLE_DEVICES: '5,7' });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("--num-gpus=3, but this node's CUDA_VISIBLE_DEVICES lists 2 device(s) (5,7)");

    const head = await cluster.startHead({ numCpus: 4, args: ['--num-gpus=2'], env: { CUDA_VISIBLE_DEVICES: '5,7' } });
    expect((await cluster.statusJson(head.tempDir)).nodes.active[0]?.resourcesTotal.GPU).toBe(2);
    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'gpus/visible_devices.mjs', { address: head.gcsAddress, barrierDir: join(dir, 'barrier') });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const seen = resultOf<{ ids: number[]; cvd: string | null }[]>(run);
    expect(seen.flatMap((s) => s.ids).sort()).toEqual([5, 7]);
    for (const s of seen) expect(s.cvd).toBe(s.ids.join(','));
  });
});

