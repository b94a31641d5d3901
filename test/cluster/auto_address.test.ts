/**
 * `auto` as an address (--address auto, RAYTS_ADDRESS=auto, ray.init with RAYTS_ADDRESS=auto): the
 * cluster this host runs. None is exit 3 with the reason; several is exit 2 naming every address.
 * ray.init() prints one line on stderr saying what it joined.
 */
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

const newCluster = useCluster();

describe('auto as an address', () => {
  it('finds the one cluster of this host: status, list, memory, logs and a driver', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    for (const [args, env] of [
      [['status', '--json'], { RAYTS_ADDRESS: 'auto' }],
      [['status', '--json', '--address', 'auto'], {}],
      [['status', '--json', '--address=AUTO'], { RAYTS_ADDRESS: '10.255.255.1:1' }],
    ] as const) {
      const r = await cluster.rayts([...args], env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect((JSON.parse(r.stdout) as { nodes: { active: unknown[] } }).nodes.active).toHaveLength(1);
    }
    const list = await cluster.rayts(['list', 'nodes', '--format=json'], { RAYTS_ADDRESS: 'auto' });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(head.nodeIp);
    const memory = await cluster.rayts(['memory', '--stats-only', '--address', 'auto']);
    expect(memory.code, memory.stderr).toBe(0);
    const logs = await cluster.rayts(['logs', '--address', 'auto']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('raylet');

    const dir = makeUserProject(cluster);
    const run = await runDriver(cluster, dir, 'tasks/join_auto.mjs', {}, { env: { RAYTS_ADDRESS: 'auto' } });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ address: string; nodeId: string; value: number }>(run);
    expect(r).toMatchObject({ address: head.gcsAddress, value: 42 });
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('Connecting to existing rayts cluster'));
    expect(lines).toEqual([`Connecting to existing rayts cluster at ${head.gcsAddress} (node ${r.nodeId.slice(0, 12)}…, session ${head.sessionDir}).`]);
  });

  it('start --address auto joins the cluster this host runs, with its session token', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const worker = cluster.tempDir('worker');
    const join = await cluster.rayts(['start', '--address', 'auto', '--node-ip-address=127.0.0.2', `--temp-dir=${worker}`,
      '--num-cpus=1', '--object-store-memory=100MiB']);
    expect(join.code, join.stderr).toBe(0);
    expect(join.stdout).toContain(`at ${head.gcsAddress}`);
    const status = await cluster.statusJson(head.tempDir);
    expect(status.nodes.active).toHaveLength(2);
  });

  it('with two clusters on the host exits 2 naming both; with none exits 3 saying so', async () => {
    const cluster = newCluster();
    const none = await cluster.rayts(['status', '--address', 'auto']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no rayts cluster is running on this host (--address=auto means the cluster this host runs)');
    const one = await cluster.startHead({ name: 'one', ip: '127.0.0.1', numCpus: 1 });
    const two = await cluster.startHead({ name: 'two', ip: '127.0.0.2', numCpus: 1 });
    expect(one.gcsAddress).not.toBe(two.gcsAddress);
    for (const [args, env] of [
      [['status'], { RAYTS_ADDRESS: 'auto' }],
      [['status', '--address', 'auto'], {}],
      [['list', 'nodes', '--address', 'auto'], {}],
      [['stop', '--address', 'auto'], {}],
    ] as const) {
      const r = await cluster.rayts([...args], env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('several rayts clusters run on this host');
      expect(r.stderr).toContain(one.gcsAddress);
      expect(r.stderr).toContain(two.gcsAddress);
    }
    // stop --address auto refused to choose: both still run.
    expect((await cluster.statusJson(one.tempDir)).nodes.active).toHaveLength(1);
    expect((await cluster.statusJson(two.tempDir)).nodes.active).toHaveLength(1);
    const stop = await cluster.rayts(['stop', '--address', 'auto', `--temp-dir=${two.tempDir}`]);
    expect(stop.code, stop.stderr).toBe(0);
    expect((await cluster.rayts(['status', '--address', 'auto'])).code).toBe(0);
  });
});
