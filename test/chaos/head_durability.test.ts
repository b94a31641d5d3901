/**
 * GCS durability (issue 16): every write the head acknowledged survives kill -9 of the head at any
 * moment. A writer in this process makes 100 acknowledged writes of each kind (node registration,
 * actor creation, placement group creation, kv put, job record), five streams at once, while the
 * test SIGKILLs the head at random points 10 times (and once more right after the last
 * acknowledgement) and starts it again on the same state dir; then every acknowledged record must be
 * served by the restarted head. The seed is printed; RAYTS_CHAOS_SEED replays the kill points.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GcsActorClient, GcsClient, pollUntil } from '@rayts/common';
import { alive, readJsonFile, useCluster, type StartedNode, type TestCluster } from '../helpers/cluster.js';
import { DurableWrites, KV_NAMESPACE, WRITE_KINDS, type WriteKind } from './durable_writes.js';
import { Rng } from './fuzz_messages.js';

const newCluster = useCluster();
const PER_KIND = 100;
const KILLS = 10;

async function killAndRestartHead(cluster: TestCluster, head: StartedNode, port: string): Promise<void> {
  const pid = readJsonFile<{ pid: number }>(join(head.sessionDir, 'head.json')).pid;
  process.kill(pid, 'SIGKILL');
  expect(await pollUntil(() => !alive(pid), 5000)).toBe(true);
  const restart = await cluster.rayts(['start', '--head', `--port=${port}`, '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`]);
  expect(restart.code, restart.stderr).toBe(0);
  expect(readJsonFile<{ pid: number }>(join(head.sessionDir, 'head.json')).pid).not.toBe(pid);
}

/** What the restarted head serves, by kind. */
async function found(cluster: TestCluster, head: StartedNode, gcs: GcsClient, actors: GcsActorClient): Promise<Record<WriteKind, Set<string>>> {
  const jobs = await cluster.rayts(['list', 'jobs', '--json', '--limit=10000', `--temp-dir=${head.tempDir}`]);
  expect(jobs.code, jobs.stderr).toBe(0);
  return {
    node: new Set((await gcs.listNodes(true)).map((n) => n.nodeId)),
    actor: new Set((await actors.listActors(true)).map((a) => a.actorId)),
    placementGroup: new Set((await gcs.listPlacementGroups()).map((g) => g.placementGroupId)),
    kv: new Set(await gcs.kvKeys(KV_NAMESPACE)),
    job: new Set((JSON.parse(jobs.stdout) as { job_id: string }[]).map((j) => j.job_id)),
  };
}

describe('head durability', () => {
  it(`${PER_KIND} acknowledged writes of each kind survive ${KILLS} SIGKILLs of the head at random points`, async () => {
    const seed = Number(process.env.RAYTS_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`durability kill points: seed ${seed} (RAYTS_CHAOS_SEED=${seed} replays them)`);
    const rng = new Rng(seed);
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const port = head.gcsAddress.split(':')[1]!;
    const options = { token: readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim(), timeoutMs: 10_000 };
    const gcs = new GcsClient(head.gcsAddress, options);
    const actors = new GcsActorClient(head.gcsAddress, options);
    const jobId = await gcs.registerJob({ nodeId: '', driverPid: process.pid, entrypoint: 'durability test', jobDir: '', submissionId: '', runtimeEnvJson: '' });
    const writer = new DurableWrites(head.gcsAddress, options, jobId);
    const started = performance.now();
    const writing = writer.run(PER_KIND);
    try {
      const killedAt: number[] = [];
      for (let k = 0; k < KILLS; k++) {
        // A random point: after 5 to 45 more acknowledgements (the five streams have writes in flight).
        const target = Math.min(writer.total + 5 + rng.int(40), PER_KIND * WRITE_KINDS.length);
        expect(await pollUntil(() => writer.total >= target, 60_000, 5), `the writer reached ${writer.total} of ${target} acknowledgements`).toBe(true);
        killedAt.push(writer.total);
        await killAndRestartHead(cluster, head, port);
      }
      await writing;
      // And once more right after the last acknowledgement.
      await killAndRestartHead(cluster, head, port);
      const served = await found(cluster, head, gcs, actors);
      const lost = Object.fromEntries(WRITE_KINDS.map((k) => [k, [...writer.acked[k]].filter((id) => !served[k].has(id)).length]));
      console.log(`durability: ${writer.total} acknowledged writes (${WRITE_KINDS.map((k) => `${k} ${writer.acked[k].size}`).join(', ')}), `
        + `head SIGKILLed after ${killedAt.join(', ')} and ${writer.total} acknowledgements, ${writer.failedAttempts} attempts failed while it was down, `
        + `lost: ${JSON.stringify(lost)}, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      for (const k of WRITE_KINDS) expect(writer.acked[k].size, k).toBe(PER_KIND);
      expect(lost).toEqual(Object.fromEntries(WRITE_KINDS.map((k) => [k, 0])));
      // The cluster kept its identity throughout.
      const log = readFileSync(join(head.sessionDir, 'logs', 'gcs_server.log'), 'utf8');
      expect((log.match(/"loaded cluster state"/g) ?? []).length).toBe(KILLS + 1);
    } finally {
      writer.stop();
      gcs.close();
      actors.close();
    }
  }, 600_000);
});
