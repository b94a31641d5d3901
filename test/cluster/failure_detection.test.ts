/**
 * Node failure detection: SIGKILL of one raylet. With shortened health settings the head declares
 * the node dead; status shows 2 active and the dead node under Recent failures. The raylet's
 * workers do not outlive it.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { alive, FAST_HEALTH, useCluster } from '../helpers/cluster.js';

const newCluster = useCluster();

describe('node failure detection', () => {
  it('declares a SIGKILLed raylet dead and lists it under Recent failures', async () => {
    const cluster = newCluster(FAST_HEALTH);
    const head = await cluster.startHead({ numCpus: 2 });
    await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
    const w3 = await cluster.startWorker(head, { name: 'w3', ip: '127.0.0.3', numCpus: 2 });
    await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 3);
    const workerPids = readdirSync(join(w3.sessionDir, 'pids', 'workers')).map((f) => Number(f.replace('.json', '')));
    expect(workerPids.length).toBeGreaterThan(0);

    const killedAt = performance.now();
    process.kill(w3.rayletPid, 'SIGKILL');
    const status = await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2 && s.nodes.recentFailures.length === 1);
    const latencyMs = performance.now() - killedAt;
    console.log(`failure detection latency: ${Math.round(latencyMs)} ms (period ${FAST_HEALTH.RAYTS_HEALTH_CHECK_PERIOD_MS} ms x threshold ${FAST_HEALTH.RAYTS_HEALTH_CHECK_FAILURE_THRESHOLD})`);

    const failed = status.nodes.recentFailures[0]!;
    expect(failed.nodeIp).toBe('127.0.0.3');
    expect(failed.deathReason).toMatch(/health check failed 3 times/);
    expect(status.usage.CPU.total).toBe(4);

    const text = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
    expect(text.stdout).toMatch(/Recent failures:\n node_[0-9a-f]{56}: NodeTerminated \(ip: 127\.0\.0\.3\) at \d\d:\d\d:\d\d: health check failed/);
    expect(text.stdout.match(/^ 1 node_/gm)).toHaveLength(2);

    // The dead raylet's workers noticed and took their process groups down.
    expect(await pollUntil(() => workerPids.every((p) => !alive(p)), 10_000)).toBe(true);
  });
});
