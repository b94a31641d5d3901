/**
 * A driver that dies with 200,000 tasks queued on its node: the raylet drops them (the job is gone)
 * and keeps serving. Before, taking that many queued tasks at once overflowed the raylet's stack and
 * the node went down with the driver.
 */
import { describe, expect, it } from 'vitest';
import { pollUntil } from '@rayts/common';
import { alive, collect, useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver, spawnDriver, told } from '../helpers/driver.js';

const newCluster = useCluster();
const TASKS = 200_000;

/** Tasks waiting for a resource shape, as `rayts status --json` shows them. */
function queued(demands: unknown[]): number {
  return (demands as { count?: number }[]).reduce((n, d) => n + (d.count ?? 0), 0);
}

describe('a driver dies with a huge queue', () => {
  it('the raylet drops the 200,000 queued tasks of the dead driver and keeps serving', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 1, args: ['--resources={"slot": 1}'] });
    const dir = makeUserProject(cluster);
    const driver = spawnDriver(cluster, dir, 'chaos/big_queue.mjs', { address: head.gcsAddress, tasks: TASKS });
    const done = collect(driver, 300_000);
    const started = Date.now();
    await told(dir, 'submitted', 180_000);
    const submittedAt = Date.now() - started;
    // All of them reached the raylet (one runs, the rest wait for `slot`).
    let seen = 0;
    const status = await cluster.waitForStatus(head.tempDir, (s) => (seen = queued(s.pendingDemands)) >= TASKS - 1, 180_000)
      .catch((e: Error) => { throw new Error(`${e.message}; the node showed ${seen} queued, the driver submitted after ${submittedAt} ms`); });
    console.log(`queued on the node: ${queued(status.pendingDemands)} (submitted after ${submittedAt} ms, all queued after ${Date.now() - started} ms)`);
    driver.kill('SIGKILL');
    await done;
    expect(await pollUntil(async () => queued((await cluster.statusJson(head.tempDir)).pendingDemands) === 0, 60_000)).toBe(true);
    expect(alive(head.rayletPid!)).toBe(true);
    const run = await runDriver(cluster, dir, 'chaos/one_task.mjs', { address: head.gcsAddress });
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf<{ value: number }>(run).value).toBe(49);
  }, 420_000);
});
