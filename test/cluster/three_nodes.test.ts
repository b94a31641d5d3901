/** Three nodes on one host (127.0.0.1-3) add up in status, in text and JSON. */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';

const newCluster = useCluster();

describe('a three-node cluster on one host', () => {
  it('shows 3 active nodes, 0.0/6.0 CPU and 0.0/1.0 ssd', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
    const w3 = await cluster.startWorker(head, { name: 'w3', ip: '127.0.0.3', numCpus: 2, resources: '{"ssd":1}' });
    expect(w3.result.stdout).toContain('Local node IP: 127.0.0.3');

    const text = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
    expect(text.code).toBe(0);
    expect(text.stdout.match(/^ 1 node_[0-9a-f]{56}$/gm)).toHaveLength(3);
    expect(text.stdout).toContain(' 0.0/6.0 CPU\n');
    expect(text.stdout).toContain(' 0.0/1.0 ssd\n');
    expect(text.stdout).toContain(' 0B/300.00MiB object_store_memory\n');
    expect(text.stdout).not.toContain('node:127'); // per-node markers are hidden

    const json = await cluster.statusJson(head.tempDir);
    expect(json.nodes.active.map((n) => n.nodeIp).sort()).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    expect(json.usage.CPU).toEqual({ used: 0, total: 6 });
    expect(json.usage.ssd).toEqual({ used: 0, total: 1 });
    expect(json.nodes.active.find((n) => n.nodeIp === '127.0.0.3')!.resourcesTotal.ssd).toBe(1);
    expect(json.nodes.active.filter((n) => n.isHead)).toHaveLength(1);

    // The same view from a worker host's session and with an explicit --address.
    const fromWorker = await cluster.statusJson(w2.tempDir);
    expect(fromWorker.usage.CPU.total).toBe(6);
    const verbose = await cluster.rayts(['status', '-v', `--address=${head.gcsAddress}`, `--temp-dir=${head.tempDir}`]);
    expect(verbose.stdout).toContain('(ip: 127.0.0.2)');
    expect(verbose.stdout).toMatch(/Labels: .*rayts\.io\/node-id=/);

    const stop = await cluster.rayts(['stop', `--temp-dir=${w3.tempDir}`]);
    expect(stop.code).toBe(0);
    // A node that left with `rayts stop` is not a failure.
    const after = await cluster.waitForStatus(head.tempDir, (s) => s.nodes.active.length === 2);
    expect(after.nodes.recentFailures).toEqual([]);
    expect(after.usage.ssd).toBeUndefined();
  });
});
