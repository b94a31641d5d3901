/**
 * Job records and logs survive a head restart: a job whose driver runs through a SIGKILL and restart
 * of the head still ends SUCCEEDED with its record and log intact; one whose driver died while the
 * head was down ends FAILED with that reason, never stuck in RUNNING.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { alive, FAST_HEALTH, useCluster, type StartedNode } from '../helpers/cluster.js';
import { api, copyJobFixture, jobOf, waitForJob } from '../helpers/jobs.js';

const newCluster = useCluster();

async function logsOf(head: StartedNode, id: string): Promise<string> {
  const r = await api(head, `/api/jobs/${id}/logs`);
  expect(r.status, r.text).toBe(200);
  return (r.json as { logs: string }).logs;
}

describe('jobs across a head restart', () => {
  it('a running job ends SUCCEEDED with its record and logs intact; a driver that died meanwhile ends FAILED', async () => {
    const cluster = newCluster(FAST_HEALTH);
    const head = await cluster.startHead({ numCpus: 2 });
    await cluster.startWorker(head, { name: 'worker', ip: '127.0.0.2', numCpus: 2 });
    copyJobFixture(cluster, 'app');
    const gate = join(cluster.root, 'gate');
    const submit = await cluster.rayts(['job', 'submit', '--no-wait', `--address=${head.dashboardUrl}`, '--working-dir', './app', '--submission-id', 'survivor',
      '--runtime-env-json', JSON.stringify({ env_vars: { GATE: gate } }), '--', 'node', 'main.js']);
    expect(submit.code, submit.stdout + submit.stderr).toBe(0);
    const doomed = await cluster.rayts(['job', 'submit', '--no-wait', `--address=${head.dashboardUrl}`, '--submission-id', 'doomed', '--', 'sleep', '1000']);
    expect(doomed.code, doomed.stderr).toBe(0);
    const before = await waitForJob(head, 'survivor', (j) => j.status === 'RUNNING');
    const doomedPid = Number((await waitForJob(head, 'doomed', (j) => j.status === 'RUNNING')).driver_info!.pid);
    expect(await pollUntil(async () => (await logsOf(head, 'survivor')).includes('waiting for the gate'), 60_000, 100)).toBe(true);

    process.kill(head.headPid!, 'SIGKILL');
    expect(await pollUntil(() => !alive(head.headPid!), 5000)).toBe(true);
    // While the head is down: one driver dies.
    process.kill(doomedPid, 'SIGKILL');
    expect(await pollUntil(() => !alive(doomedPid), 5000)).toBe(true);

    const port = head.gcsAddress.split(':')[1]!;
    const restart = await cluster.rayts(['start', '--head', `--port=${port}`, '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`]);
    expect(restart.code, restart.stderr).toBe(0);
    const url = /https?:\/\/127\.0\.0\.1:\d+/.exec(restart.stdout)?.[0];
    expect(url, restart.stdout).toBeDefined();
    const restarted: StartedNode = { ...head, dashboardUrl: url };

    writeFileSync(gate, '');
    const done = await waitForJob(restarted, 'survivor', (j) => j.status === 'SUCCEEDED' || j.status === 'FAILED', 120_000);
    expect(done.status, `${done.message}\n${await logsOf(restarted, 'survivor')}`).toBe('SUCCEEDED');
    expect(done).toMatchObject({ submission_id: 'survivor', entrypoint: before.entrypoint, start_time: before.start_time, driver_node_id: before.driver_node_id });
    const logs = await logsOf(restarted, 'survivor');
    expect(logs).toContain("hello from the job's own module, driver");
    expect(logs).toContain('first half: 0,1,8,27');
    expect(logs).toContain('RESULT ');

    const lost = await waitForJob(restarted, 'doomed', (j) => j.status !== 'RUNNING', 30_000);
    expect(lost.status).toBe('FAILED');
    expect(lost.message).toMatch(/SIGKILL/);
    expect((await jobOf(restarted, 'doomed')).end_time).toBeGreaterThan(0);
  }, 300_000);
});
