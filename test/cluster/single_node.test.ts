/**
 * One node: start a head, see this host's CPUs in status, stop it, nothing left.
 * Plus the local-session conveniences: get-auth-token, logs, and refusing a second head.
 */
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { alive, useCluster } from '../helpers/cluster.js';
import { detectCpus } from '@rayts/raylet';

const newCluster = useCluster();

describe('a single head node', () => {
  it('starts, reports this host\'s CPUs, and stops without leaving a process', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead();
    expect(head.result.stdout).toContain('Local node IP: 127.0.0.1');
    expect(head.result.stdout).toContain('Rayts runtime started.');
    expect(head.result.stdout).toMatch(/rayts start --address='127\.0\.0\.1:\d+' --token-file=/);
    // Progress goes to stderr; stdout only carries results.
    expect(head.result.stderr).toContain('Starting the head');
    expect(head.result.stdout).not.toContain('Starting the head');

    const text = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
    expect(text.code).toBe(0);
    const cpus = detectCpus();
    expect(cpus).toBe(Math.min(availableParallelism(), cpus));
    expect(text.stdout).toContain(`0.0/${cpus}.0 CPU`);
    expect(text.stdout).toMatch(/Active:\n 1 node_[0-9a-f]{56}\n/);
    expect(text.stdout).toMatch(/0B\/100\.00MiB object_store_memory/);

    const json = await cluster.statusJson(head.tempDir);
    expect(json.nodes.active).toHaveLength(1);
    expect(json.usage.CPU).toEqual({ used: 0, total: cpus });

    const before = cluster.processes();
    expect(before.length).toBeGreaterThanOrEqual(3); // head, raylet, one prestarted worker
    const stop = await cluster.rayts(['stop', `--temp-dir=${head.tempDir}`]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/Stopped all 2 rayts processes/);
    expect(cluster.processes()).toEqual([]);
    for (const pid of before) expect(alive(pid)).toBe(false);

    const after = await cluster.rayts(['status', `--temp-dir=${head.tempDir}`]);
    expect(after.code).toBe(3);
    expect(after.stderr).toContain('no rayts cluster is running');
  });

  it('prints the token, lists and tails logs, and refuses a second head on the same temp dir', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const token = await cluster.rayts(['get-auth-token', `--temp-dir=${head.tempDir}`]);
    expect(token.code).toBe(0);
    expect(token.stdout).toBe(readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim());
    expect(token.stdout).toMatch(/^[0-9a-f]{64}$/);

    const listing = await cluster.rayts(['logs', `--temp-dir=${head.tempDir}`]);
    expect(listing.code).toBe(0);
    expect(listing.stdout).toContain('Node IP: 127.0.0.1');
    expect(listing.stdout).toContain('- raylet.log');
    expect(listing.stdout).toContain('- gcs_server.log');
    expect(listing.stdout).toMatch(/worker_out:\n- worker-[0-9a-f]+-\d+\.out/);

    const tail = await cluster.rayts(['logs', 'gcs_server.log', '--tail=1', `--temp-dir=${head.tempDir}`]);
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).component).toBe('gcs_server');

    const json = await cluster.rayts(['logs', 'raylet.*', '--json', `--temp-dir=${head.tempDir}`]);
    expect(JSON.parse(json.stdout).files.map((f: { name: string }) => f.name).sort()).toEqual(['raylet.err', 'raylet.log', 'raylet.out']);

    const second = await cluster.rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${head.tempDir}`]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain('a rayts head already runs');
    expect(second.stderr).toContain(`rayts stop --temp-dir=${head.tempDir}`);
    // The refused start created no second session.
    expect(readdirSync(head.tempDir).filter((n) => n.startsWith('session_2'))).toHaveLength(1);
  });
});
