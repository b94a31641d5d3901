/**
 * What `rayts stop` stops: with two clusters on one host, `stop --address` stops one and leaves the
 * other; plain `stop` finds every session this host registered, whatever its temp dir; `--force`
 * kills at once.
 */
import { describe, expect, it } from 'vitest';
import { alive, useCluster } from '../helpers/cluster.js';

const newCluster = useCluster();

describe('rayts stop scope', () => {
  it('stop --address stops one cluster of two; plain stop then finds the other', async () => {
    const cluster = newCluster();
    const a = await cluster.startHead({ name: 'a', ip: '127.0.0.1', numCpus: 1 });
    const aWorker = await cluster.startWorker(a, { name: 'a-w', ip: '127.0.0.2', numCpus: 1 });
    const b = await cluster.startHead({ name: 'b', ip: '127.0.0.4', numCpus: 1 });

    // Without a hint, status refuses to guess between two clusters.
    const ambiguous = await cluster.rayts(['status']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('several rayts clusters');

    const stopA = await cluster.rayts(['stop', `--address=${a.gcsAddress}`]);
    expect(stopA.code).toBe(0);
    expect(stopA.stdout).toContain('Stopped all 3 rayts processes (2 sessions)');
    for (const pid of [a.headPid!, a.rayletPid, aWorker.rayletPid]) expect(alive(pid)).toBe(false);
    expect(alive(b.headPid!)).toBe(true);
    expect(alive(b.rayletPid)).toBe(true);
    const statusB = await cluster.rayts(['status', '--json']);
    expect(statusB.code).toBe(0);
    expect(JSON.parse(statusB.stdout).gcsAddress).toBe(b.gcsAddress);

    const stopAll = await cluster.rayts(['stop']);
    expect(stopAll.code).toBe(0);
    expect(stopAll.stdout).toContain('Stopped all 2 rayts processes');
    expect(cluster.processes()).toEqual([]);
    const again = await cluster.rayts(['stop']);
    expect(again.stdout).toContain('Did not find any active rayts processes');
  });

  it('--force kills at once and still leaves nothing', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2, env: { RAYTS_PRESTART_WORKERS: '2' } });
    const stop = await cluster.rayts(['stop', '--force', `--temp-dir=${head.tempDir}`]);
    expect(stop.code).toBe(0);
    expect(cluster.processes()).toEqual([]);
  });
});
