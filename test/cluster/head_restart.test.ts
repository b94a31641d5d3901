/**
 * Head restarts: SIGKILL of the head and a restart on the same state dir keeps the cluster id and the
 * node table; living raylets re-register without restarting. A raylet whose head stays away past
 * the reconnect timeout exits cleanly, taking its workers with it.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { METRICS_DISCOVERY_FILE, type FileSdGroup } from '@rayts/gcs';
import { alive, FAST_HEALTH, useCluster } from '../helpers/cluster.js';

const newCluster = useCluster();

describe('head restart', () => {
  it('keeps the cluster id and nodes; running raylets re-register without restarting', async () => {
    const cluster = newCluster(FAST_HEALTH);
    const head = await cluster.startHead({ numCpus: 2 });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
    const w3 = await cluster.startWorker(head, { name: 'w3', ip: '127.0.0.3', numCpus: 2 });
    const before = await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 3);
    const nodeIds = before.nodes.active.map((n) => n.nodeId).sort();
    const port = head.gcsAddress.split(':')[1]!;
    const discovery = join(head.tempDir, METRICS_DISCOVERY_FILE);
    const metricsTargets = (component: string) => (JSON.parse(readFileSync(discovery, 'utf8')) as FileSdGroup[])
      .filter((g) => g.labels.component === component).flatMap((g) => g.targets).sort();
    const targetsBefore = metricsTargets('raylet');
    expect(targetsBefore).toHaveLength(3);
    expect(metricsTargets('head')).toEqual([new URL(head.dashboardUrl!).host]);

    process.kill(head.headPid!, 'SIGKILL');
    expect(await pollUntil(() => !alive(head.headPid!), 5000)).toBe(true);
    rmSync(discovery);
    const down = await cluster.rayts(['status', `--address=${head.gcsAddress}`, `--temp-dir=${head.tempDir}`]);
    expect(down.code).toBe(3);

    const restart = await cluster.rayts(['start', '--head', `--port=${port}`, '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`]);
    expect(restart.code).toBe(0);
    expect(restart.stdout).toContain('Rayts head restarted.');
    // The restarted head lists the raylets for Prometheus again, from its node table, and its own new endpoint.
    expect(metricsTargets('raylet')).toEqual(targetsBefore);
    expect(metricsTargets('head')).toHaveLength(1);

    const after = await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 3);
    expect(after.clusterId).toBe(before.clusterId);
    expect(after.nodes.active.map((n) => n.nodeId).sort()).toEqual(nodeIds);
    expect(after.nodes.recentFailures).toEqual([]);
    // The same raylet processes, still running.
    for (const n of [head, w2, w3]) expect(alive(n.rayletPid)).toBe(true);
    // They re-registered with the new head (the head logs it), rather than being restarted.
    await pollUntil(() => (readFileSync(join(head.sessionDir, 'logs', 'gcs_server.log'), 'utf8').match(/"node re-registered"/g) ?? []).length >= 3, 15_000);
    const log = readFileSync(join(head.sessionDir, 'logs', 'gcs_server.log'), 'utf8');
    expect(log).toContain('"loaded cluster state"');
    expect((log.match(/"node re-registered"/g) ?? []).length).toBeGreaterThanOrEqual(3);
    const reread = await cluster.statusJson(head.tempDir);
    expect(reread.nodes.active).toHaveLength(3);
  });

  it('a raylet whose head stays away past the reconnect timeout exits and takes its workers along', async () => {
    const cluster = newCluster({ ...FAST_HEALTH, RAYTS_GCS_RECONNECT_TIMEOUT_S: '2', RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 1 });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2, env: { RAYTS_PRESTART_WORKERS: '2' } });
    const workerPids = readdirSync(join(w2.sessionDir, 'pids', 'workers')).map((f) => Number(f.replace('.json', '')));
    expect(workerPids).toHaveLength(2);

    process.kill(head.headPid!, 'SIGKILL');
    expect(await pollUntil(() => !alive(w2.rayletPid), 20_000)).toBe(true);
    expect(await pollUntil(() => workerPids.every((p) => !alive(p)), 5000)).toBe(true);
    const err = readFileSync(join(w2.sessionDir, 'logs', 'raylet.err'), 'utf8');
    expect(err).toMatch(/unreachable for \d+ s/);
    const log = readFileSync(join(w2.sessionDir, 'logs', 'raylet.log'), 'utf8');
    expect(log).toContain('"raylet stopping"');
  });
});
