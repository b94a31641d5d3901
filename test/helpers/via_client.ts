/**
 * The second run of the task, object, actor and placement-group suites, through `rayts://`
 * (vitest project `via-client`, RAYTS_TEST_VIA_CLIENT=1): every driver a test runs connects to its
 * head's client port as a remote client would, from a process that sees no node of the cluster (empty
 * RAYTS_TMPDIR, registry and record of clusters), with the head's token file. A test that starts no
 * cluster (a driver's private one) gets a head and one worker node. A test about what only a driver on
 * a node has (reading its node's shared memory in place, starting a private cluster, `auto`) is
 * registered with `onNodeOnly(reason)`, which leaves it out of this run.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import type { HeadReady } from '@rayts/common';
import type { StartedNode, TestCluster } from './cluster.js';
import type { DriverParams } from './driver.js';

export const VIA_CLIENT = process.env.RAYTS_TEST_VIA_CLIENT === '1';

/** A test that only a driver on a node can run: `it` normally, nothing at all in the run through rayts://. */
export function onNodeOnly(reason: string): typeof it {
  if (!reason) throw new Error('onNodeOnly needs the reason the test does not apply to a remote client');
  return VIA_CLIENT ? (((() => undefined) as unknown) as typeof it) : it;
}

/** A group of tests that only a driver on a node can run (see onNodeOnly). */
export function describeOnNodeOnly(reason: string): typeof describe {
  if (!reason) throw new Error('describeOnNodeOnly needs the reason the tests do not apply to a remote client');
  return VIA_CLIENT ? (((() => undefined) as unknown) as typeof describe) : describe;
}

/** The rayts:// address of a head this test started. */
export function clientAddressOf(head: StartedNode): string {
  const ready = JSON.parse(readFileSync(join(head.sessionDir, 'head.json'), 'utf8')) as HeadReady;
  if (!ready.clientPort) throw new Error(`the head at ${head.gcsAddress} serves no client port`);
  return `rayts://${head.nodeIp}:${ready.clientPort}`;
}

export interface ClientClusterShape {
  headCpus: number;
  workerCpus: number;
}

/** A test with no cluster of its own gets a head and one worker node for its drivers. */
export async function ensureClientCluster(cluster: TestCluster, shape: ClientClusterShape = { headCpus: 2, workerCpus: 2 }): Promise<void> {
  if (cluster.heads.length > 0) return;
  const head = await cluster.startHead({ name: 'client-head', numCpus: shape.headCpus });
  await cluster.startWorker(head, { name: 'client-worker', ip: '127.0.0.2', numCpus: shape.workerCpus });
}

/**
 * What a driver of the run through rayts:// gets: the environment of a machine with no node, pointed
 * at the head (the first one, or the one `params` names), and `params` with every head address
 * replaced by that head's rayts:// address.
 */
export function clientDriver(cluster: TestCluster, params: DriverParams): { env: Record<string, string>; params: DriverParams } {
  const head = cluster.heads.find((h) => Object.values(params).includes(h.gcsAddress)) ?? cluster.heads[0];
  if (!head) throw new Error('the run through rayts:// needs a head: start one (runDriver does) before spawnDriver');
  const address = clientAddressOf(head);
  const rewritten: DriverParams = {};
  for (const [k, v] of Object.entries(params)) {
    const h = typeof v === 'string' ? cluster.heads.find((x) => x.gcsAddress === v) : undefined;
    rewritten[k] = h ? clientAddressOf(h) : v;
  }
  return { params: rewritten, env: remoteClientEnv(cluster, head, address) };
}

/** The environment of a machine that runs no node (empty temp dir, registry, record of clusters), pointed at `address` with `head`'s token. */
export function remoteClientEnv(cluster: TestCluster, head: StartedNode, address: string): Record<string, string> {
  const nowhere = cluster.tempDir('remote-client-host');
  return {
    RAYTS_ADDRESS: address, RAYTS_TOKEN_FILE: join(head.tempDir, 'state', 'token'),
    RAYTS_TMPDIR: join(nowhere, 'tmp'), RAYTS_REGISTRY_DIR: join(nowhere, 'registry'), RAYTS_CLUSTERS_DIR: join(nowhere, 'clusters'),
  };
}
