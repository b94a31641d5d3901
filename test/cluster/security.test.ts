/**
 * The cluster token: joining without or with a wrong token fails clearly and the head logs the
 * refusal; a node of another protocol version is refused; a raw gRPC client without the token is
 * refused by every method of every service; the token shows in no process command line and in no
 * log file; the raylet's object-transfer side channel checks it too and survives garbage.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { readJsonFile, useCluster } from '../helpers/cluster.js';
import { callRaw, methodsOf } from '../helpers/raw_grpc.js';
import { sideChannel, transferRequest } from '../helpers/side_channel.js';
import { GcsClient, PROTOCOL_VERSION, type RayletReady } from '@rayts/common';

const newCluster = useCluster();

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

describe('security', () => {
  it('refuses joins without the right token, and the head logs each refusal', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const wrongFile = join(cluster.root, 'wrong-token');
    writeFileSync(wrongFile, 'ab'.repeat(32) + '\n', { mode: 0o600 });

    const none = await cluster.rayts(['start', `--address=${head.gcsAddress}`, '--node-ip-address=127.0.0.2', `--temp-dir=${cluster.tempDir('w-none')}`]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('needs the cluster token');

    const wrong = await cluster.rayts(['start', `--address=${head.gcsAddress}`, `--token-file=${wrongFile}`, '--node-ip-address=127.0.0.2', `--temp-dir=${cluster.tempDir('w-wrong')}`]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('refused the cluster token');

    const viaEnv = await cluster.rayts(['start', `--address=${head.gcsAddress}`, '--node-ip-address=127.0.0.2', `--temp-dir=${cluster.tempDir('w-env')}`],
      { RAYTS_TOKEN: 'cd'.repeat(32) });
    expect(viaEnv.code).not.toBe(0);
    expect(viaEnv.stderr).toContain('refused the cluster token');

    const log = readFileSync(join(head.sessionDir, 'logs', 'gcs_server.log'), 'utf8');
    expect(log).toMatch(/"msg":"refused an unauthenticated call".*"reason":"wrong token"/);
    // No node joined.
    const status = await cluster.statusJson(head.tempDir);
    expect(status.nodes.active).toHaveLength(1);
    // The token file is private.
    expect(statSync(join(head.tempDir, 'state', 'token')).mode & 0o777).toBe(0o600);
  });

  it('refuses a node speaking another protocol version, naming both versions', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const join1 = await cluster.rayts(['start', `--address=${head.gcsAddress}`, `--token-file=${join(head.tempDir, 'state', 'token')}`,
      '--node-ip-address=127.0.0.2', `--temp-dir=${cluster.tempDir('w')}`], { RAYTS_TESTING_PROTOCOL_VERSION: '99' });
    expect(join1.code).not.toBe(0);
    expect(join1.stderr).toContain('protocol version mismatch');
    expect(join1.stderr).toContain('protocol 99');
    expect(join1.stderr).toContain(`protocol ${PROTOCOL_VERSION}`);

    // The head enforces it too, for a raylet that skips the CLI's check.
    const token = readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim();
    const client = new GcsClient(head.gcsAddress, { token, timeoutMs: 5000 });
    try {
      await expect(client.registerNode({ protocolVersion: 99, node: { nodeId: 'a'.repeat(56), nodeIp: '127.0.0.9', rayletPort: 1 } }))
        .rejects.toThrow(new RegExp(`protocol 99.*protocol ${PROTOCOL_VERSION}`));
    } finally {
      client.close();
    }
  });

  it('every method of every service refuses calls without or with a wrong token', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const raylet = readJsonFile<RayletReady>(join(head.sessionDir, 'raylet.json'));
    const headServices = ['ClusterService', 'NodeService', 'KvService', 'JobService', 'ActorService', 'PlacementGroupService', 'TaskEventService'];
    const rayletServices = ['RayletService', 'ActorHostService'];
    const targets = [
      { address: head.gcsAddress, methods: methodsOf(headServices) },
      { address: raylet.address, methods: methodsOf(rayletServices) },
    ];
    let checked = 0;
    for (const { address, methods } of targets) {
      expect(methods.length).toBeGreaterThan(0);
      for (const method of methods) {
        for (const token of [undefined, 'ef'.repeat(32), 'not-even-hex']) {
          const result = await callRaw(address, method, token);
          expect(result.code, `${method.path} with token ${token}`).toBe(grpc.status.UNAUTHENTICATED);
          checked += 1;
        }
      }
    }
    expect(checked).toBe(3 * (methodsOf([...headServices, ...rayletServices]).length));
    // The right token passes the interceptor (GetClusterInfo with an empty request is valid).
    const ok = await callRaw(head.gcsAddress, methodsOf(['ClusterService']).find((m) => m.name === 'GetClusterInfo')!,
      readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim());
    expect(ok.code).toBe(grpc.status.OK);
  });

  it('the token appears in no process command line and in no log file', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const w2 = await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1 });
    const token = readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim();
    // A failed join with the token in the environment must not leak it either.
    await cluster.rayts(['start', `--address=${head.gcsAddress}`, '--node-ip-address=127.0.0.3', `--temp-dir=${cluster.tempDir('w3')}`, '--num-cpus=1'],
      { RAYTS_TOKEN: token });

    const ps = execFileSync('ps', ['-eo', 'args', '-ww'], { encoding: 'utf8' });
    expect(ps).not.toContain(token);
    for (const pid of cluster.processes()) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(token);
      // Daemons get the token by file, not by environment.
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(token);
    }
    expect(cluster.processes().length).toBeGreaterThanOrEqual(6);
    const logFiles = [head, w2].flatMap((n) => filesUnder(join(n.sessionDir, 'logs')));
    expect(logFiles.length).toBeGreaterThan(6);
    for (const file of logFiles) expect(readFileSync(file, 'utf8'), file).not.toContain(token);
  });
});

describe('object-transfer side channel', () => {
  it('refuses requests without the cluster token, rejects garbage, and the raylet keeps serving', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const raylet = readJsonFile<RayletReady>(join(head.sessionDir, 'raylet.json'));
    const token = readFileSync(join(head.tempDir, 'state', 'token'), 'utf8').trim();
    const objectId = '0'.repeat(56);
    const noToken = await sideChannel(raylet.port, transferRequest({ objectId }));
    expect(noToken).toMatchObject({ status: 2, text: 'missing or wrong cluster token' });
    const wrong = await sideChannel(raylet.port, transferRequest({ token: 'x'.repeat(token.length), objectId }));
    expect(wrong.status).toBe(2);
    const missing = await sideChannel(raylet.port, transferRequest({ token, objectId }));
    expect(missing.status).toBe(1);
    expect(missing.text).toContain('is not on this node');
    // Not JSON, and an oversized length: the connection is dropped without an answer.
    expect((await sideChannel(raylet.port, transferRequest('{not json'))).status).toBe(-1);
    const huge = Buffer.concat([Buffer.from('RAYTSOB1'), Buffer.from([0xff, 0xff, 0xff, 0x7f])]);
    expect((await sideChannel(raylet.port, huge)).status).toBe(-1);
    const log = readFileSync(join(head.sessionDir, 'logs', 'raylet.log'), 'utf8');
    expect(log).toContain('refused an object transfer without the cluster token');
    expect(log).not.toContain(token);
    const status = await cluster.statusJson(head.tempDir);
    expect(status.nodes.active).toHaveLength(1);
  });
});
