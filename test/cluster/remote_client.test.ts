/**
 * Remote drivers (`ray.init('rayts://HOST:PORT')`) from a process that sees no node of the cluster:
 * empty RAYTS_TMPDIR, registry and record of clusters, the head's token file. (The task, object,
 * actor and placement-group suites also run whole through rayts://: vitest project `via-client`.)
 */
import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PROTOCOL_VERSION, pollUntil } from '@rayts/common';
import { useCluster, type StatusJson } from '../helpers/cluster.js';
import { FIXTURES, makeUserProject, resultOf, runDriver, spawnDriver, told } from '../helpers/driver.js';
import { collect } from '../helpers/cluster.js';
import { clientAddressOf, remoteClientEnv } from '../helpers/via_client.js';
import { hasOpenssl, makeCertificates } from '../helpers/tls.js';
import { acquireHostMemory } from '../helpers/host_memory.js';

const newCluster = useCluster();
const GiB = 2 ** 30;

/** Resident memory of a process, from /proc (bytes). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** A TCP proxy the test can cut: `cut()` drops every connection and refuses new ones until `heal()`. */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  private readonly server: Server;
  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.cutOff) { client.destroy(); return; }
      const upstream = connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port)));
  }
  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
  }
  heal(): void {
    this.cutOff = false;
  }
  close(): void {
    this.cut();
    this.server.close();
  }
}

describe('remote drivers through rayts://', () => {
  // The store holds objects up to one arena segment, 4 GiB (Node 20's largest ArrayBuffer view): two
  // arrays of 2 GiB and 2 GiB - 128 B make an object of exactly 4 GiB with its header.
  it('a 4 GiB object round trip is byte-exact, and neither end holds a second copy', async () => {
    // About 13 GiB for a minute or two: never beside the memory monitor's tests (helpers/host_memory.ts).
    const release = await acquireHostMemory();
    const cluster = newCluster();
    // Released once this test's processes and their 4 GiB store are gone (cleaning up twice is harmless).
    onTestFinished(async () => { await cluster.cleanup(); release(); });
    const head = await cluster.startHead({ numCpus: 1, args: ['--object-store-memory=4200MiB'] });
    const headPid = head.headPid!;
    const dir = makeUserProject(cluster);
    const partBytes = [2 * GiB, 2 * GiB - 128];
    const child = spawnDriver(cluster, dir, 'remote/big_roundtrip.mjs', { partBytes }, { env: remoteClientEnv(cluster, head, clientAddressOf(head)) });
    const done = collect(child, 600_000);
    await told(dir, 'ready', 300_000);
    // The head's RSS while the object streams through it: sampled from here, from before the put to the end.
    const headBefore = rssOf(headPid);
    let headPeak = headBefore;
    const sampler = setInterval(() => { try { headPeak = Math.max(headPeak, rssOf(headPid)); } catch { /* gone */ } }, 20);
    writeFileSync(join(dir, 'go'), '');
    // The object in the store is 4 GiB: what `rayts memory` says of it on the head node.
    const { objectId } = await told<{ objectId: string }>(dir, 'put-done', 300_000);
    const memory = await cluster.rayts(['memory', '--json', `--temp-dir=${head.tempDir}`]);
    const refs = (JSON.parse(memory.stdout) as { refs: { objectId: string; size: string | number }[] }[]).flatMap((n) => n.refs);
    expect(Number(refs.find((r) => r.objectId === objectId)?.size)).toBe(4 * GiB);
    writeFileSync(join(dir, 'checked'), '');
    const run = await done.finally(() => clearInterval(sampler));
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ bytes: number; sent: string; received: string; lengths: number[]; putGrowth: number; getGrowth: number; putMs: number; getMs: number }>(run);
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    console.log(`${mib(r.bytes)} round trip: put ${r.putMs.toFixed(0)} ms (${(r.bytes / 2 ** 20 / (r.putMs / 1000)).toFixed(0)} MiB/s), get ${r.getMs.toFixed(0)} ms; ` +
      `client RSS growth: put ${mib(r.putGrowth)}, get ${mib(r.getGrowth)} (the object itself: ${mib(r.bytes)}); head RSS growth ${mib(headPeak - headBefore)}`);
    expect(r.received).toBe(r.sent);
    expect(r.lengths).toEqual(partBytes);
    // A window is 16 MiB: a few of them, never a copy of the object.
    expect(r.putGrowth).toBeLessThan(256 * 2 ** 20);
    expect(r.getGrowth).toBeLessThan(r.bytes + 256 * 2 ** 20);
    expect(headPeak - headBefore).toBeLessThan(256 * 2 ** 20);
  }, 900_000);

  it('a 5 s cut of the connection: the session resumes, the actor keeps its state, work submitted meanwhile completes', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 2 });
    const target = new URL(clientAddressOf(head).replace('rayts://', 'tcp://'));
    const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port) });
    const port = await proxy.listen();
    try {
      const dir = makeUserProject(cluster);
      const done = collect(spawnDriver(cluster, dir, 'remote/survive_cut.mjs', {}, { env: remoteClientEnv(cluster, head, `rayts://127.0.0.1:${port}`) }), 180_000);
      await told(dir, 'ready', 120_000);
      proxy.cut();
      writeFileSync(join(dir, 'cut'), '');
      const cutAt = Date.now();
      await pollUntil(() => Date.now() - cutAt >= 5000, 10_000, 50); // the outage lasts 5 s
      proxy.heal();
      const run = await done;
      expect(run.code, run.stderr).toBe(0);
      expect(resultOf(run)).toEqual({ before: [1, 9], duringValues: [2, 16, 25], after: [3, 36], bigLength: 1 << 20, bigFirst: 7, bigLast: 7 });
      expect(run.stderr).toMatch(/rayts: lost the connection to rayts:\/\/127\.0\.0\.1:\d+ .*reconnecting for up to 30 s/);
      expect(run.stderr).toContain('the session resumed');
    } finally {
      proxy.close();
    }
  });

  it('a client killed with SIGKILL: after the grace period its actor is gone, its CPUs are free, its object and refs are gone', async () => {
    const cluster = newCluster({ RAYTS_CLIENT_RECONNECT_GRACE_S: '3' });
    const head = await cluster.startHead({ numCpus: 3 });
    const dir = makeUserProject(cluster);
    const child = spawnDriver(cluster, dir, 'remote/killed_client.mjs', {}, { env: remoteClientEnv(cluster, head, clientAddressOf(head)) });
    const done = collect(child, 120_000);
    const held = await told<{ actorId: string; objectId: string }>(dir, 'ready', 120_000);
    const busy = await cluster.waitForStatus(head.tempDir, (s) => cpuUsed(s) === 2);
    expect(cpuUsed(busy)).toBe(2);
    const memoryBefore = await cluster.rayts(['memory', '--json', `--temp-dir=${head.tempDir}`]);
    expect(memoryBefore.stdout).toContain(held.objectId);
    child.kill('SIGKILL');
    await done;
    // Within the grace period the session waits; after it the head ends it.
    await cluster.waitForStatus(head.tempDir, (s) => cpuUsed(s) === 0, 60_000);
    const actorGone = await pollUntil(async () => {
      const r = await cluster.rayts(['list', 'actors', '--format=json', `--temp-dir=${head.tempDir}`, '--detail']);
      return r.code === 0 && (JSON.parse(r.stdout) as { actor_id: string; state: string }[]).some((a) => a.actor_id === held.actorId && a.state === 'DEAD');
    }, 60_000, 200);
    expect(actorGone).toBe(true);
    const refsGone = await pollUntil(async () => {
      const r = await cluster.rayts(['memory', '--json', `--temp-dir=${head.tempDir}`]);
      return r.code === 0 && !r.stdout.includes(held.objectId);
    }, 60_000, 200);
    expect(refsGone).toBe(true);
    const log = readFileSync(join(head.sessionDir, 'logs', 'gcs_server.log'), 'utf8');
    expect(log).toMatch(/remote client session ended.*did not reconnect within 3 s/);
  });

  it('a wrong token opens no session; another protocol version gets a clear error; a taken port stops start --head', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 1 });
    const dir = makeUserProject(cluster);
    const env = remoteClientEnv(cluster, head, clientAddressOf(head));
    const wrong = await runDriver(cluster, dir, 'remote/refused.mjs', {}, { env: { ...env, RAYTS_TOKEN_FILE: '', RAYTS_TOKEN: 'not-the-token' } });
    expect(resultOf(wrong)).toMatchObject({ connected: false, cls: 'AuthenticationError' });
    expect(resultOf<{ msg: string }>(wrong).msg).toContain('missing or wrong cluster token');
    const log = readFileSync(join(head.sessionDir, 'logs', 'gcs_server.log'), 'utf8');
    expect(log).toContain('refused a remote client');
    expect(log).not.toContain('remote client session started');
    expect(log).not.toContain('not-the-token');

    const other = await runDriver(cluster, dir, 'remote/refused.mjs', {}, { env: { ...env, RAYTS_TESTING_PROTOCOL_VERSION: '99' } });
    const o = resultOf<{ connected: boolean; cls: string; msg: string }>(other);
    expect(o).toMatchObject({ connected: false, cls: 'VersionMismatchError' });
    expect(o.msg).toMatch(new RegExp(`this client speaks rayts protocol 99 .* the cluster protocol ${PROTOCOL_VERSION} `));

    const none = await runDriver(cluster, dir, 'remote/refused.mjs', {}, { env: { ...env, RAYTS_TOKEN_FILE: '' } });
    expect(resultOf(none)).toMatchObject({ connected: false, cls: 'UsageError' });

    const taken = createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)));
    try {
      const second = await cluster.rayts(['start', '--head', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${cluster.tempDir('second')}`,
        `--ray-client-server-port=${port}`]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`port ${port} on 127.0.0.1 is already in use, so the head cannot serve remote drivers (rayts://) there`);
      expect(second.stderr).toContain('--ray-client-server-port');
    } finally {
      taken.close();
    }
  });
});

describe('remote drivers: sessions and runtime envs', () => {
  it('clients are isolated by namespace: a named actor is found only from its own namespace', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const env = remoteClientEnv(cluster, head, clientAddressOf(head));
    const ownerDir = makeUserProject(cluster, 'owner');
    const owner = collect(spawnDriver(cluster, ownerDir, 'remote/namespace_owner.mjs', { ns: 'team-a' }, { env }), 120_000);
    await told(ownerDir, 'ready', 90_000);
    const other = await runDriver(cluster, makeUserProject(cluster, 'other'), 'remote/namespace_lookup.mjs', { ns: 'team-b' }, { env });
    const same = await runDriver(cluster, makeUserProject(cluster, 'same'), 'remote/namespace_lookup.mjs', { ns: 'team-a' }, { env });
    writeFileSync(join(ownerDir, 'done'), '');
    expect((await owner).code).toBe(0);
    expect(resultOf(other)).toEqual({ found: false, cls: 'ActorNotFoundError' });
    expect(resultOf(same)).toEqual({ found: true, answer: 'hello #2 from team-a' });
  });

  it('a runtime env working_dir is uploaded from the client; tasks run in it on every node', async () => {
    const cluster = newCluster({ RAYTS_REPORT_RESOURCES_PERIOD_MS: '200' });
    const head = await cluster.startHead({ numCpus: 1 });
    await cluster.startWorker(head, { name: 'w2', ip: '127.0.0.2', numCpus: 1 });
    const dir = makeUserProject(cluster, 'with-wd');
    cpSync(join(FIXTURES, 'jobs', 'app', 'lib'), join(dir, 'wd', 'lib'), { recursive: true });
    cpSync(join(FIXTURES, 'jobs', 'app', 'package.json'), join(dir, 'wd', 'package.json'));
    const address = clientAddressOf(head);
    const run = await runDriver(cluster, dir, 'jobs/init_runtime_env.mjs', { address }, { env: remoteClientEnv(cluster, head, address) });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = resultOf<{ cubes: number[]; nodeIps: string[]; cwds: string[]; env: string[] }>(run);
    expect(result.cubes).toEqual([0, 1, 8, 27, 64, 125, 216, 343]);
    expect(result.nodeIps).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(result.env).toEqual(['yes']);
    for (const cwd of result.cwds) expect(cwd).toMatch(/runtime_resources\/working_dir\/[0-9a-f]{64}$/);
  }, 180_000);
});

describe('remote drivers need nothing of a node', () => {
  // What a laptop lacks, a Linux test takes away: a private mount namespace with /proc and /dev/shm
  // empty (and no session, registry or daemon of its own, as every test here).
  it.skipIf(process.getuid?.() !== 0)('a client with /proc and /dev/shm empty runs tasks, actors and large objects', async () => {
    const cluster = newCluster();
    const head = await cluster.startHead({ numCpus: 2 });
    const dir = makeUserProject(cluster);
    writeFileSync(join(dir, 'main.mjs'), readFileSync(join(FIXTURES, 'remote', 'small_work.mjs')));
    const script = `mount -t tmpfs none /dev/shm && mount -t tmpfs none /proc && [ -z "$(ls /proc)" ] && exec ${process.execPath} main.mjs '{}'`;
    const child = spawn('unshare', ['--mount', 'sh', '-c', script], {
      cwd: dir, env: { ...cluster.env, ...remoteClientEnv(cluster, head, clientAddressOf(head)) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run = await collect(child, 120_000);
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toEqual({ square: 49, count: 1, bigLength: 1 << 19, bigSum: 3 * (1 << 19) });
  });
});

describe('remote drivers and mutual TLS', () => {
  it.skipIf(!hasOpenssl)('with the cluster\'s certificates the session runs inside TLS; a client without them gets a clear error', async () => {
    const cluster = newCluster();
    const certs = makeCertificates(cluster.root);
    const tlsEnv = { RAYTS_TLS_CERT: certs.cert, RAYTS_TLS_KEY: certs.key, RAYTS_TLS_CA: certs.ca };
    const head = await cluster.startHead({ numCpus: 2, args: [`--tls-cert=${certs.cert}`, `--tls-key=${certs.key}`, `--tls-ca=${certs.ca}`] });
    const dir = makeUserProject(cluster);
    const env = remoteClientEnv(cluster, head, clientAddressOf(head));
    const run = await runDriver(cluster, dir, 'remote/small_work.mjs', {}, { env: { ...env, ...tlsEnv } });
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toEqual({ square: 49, count: 1, bigLength: 1 << 19, bigSum: 3 * (1 << 19) });
    const plain = await runDriver(cluster, dir, 'remote/refused.mjs', {}, { env });
    const p = resultOf<{ connected: boolean; cls: string; msg: string; hint: string }>(plain);
    expect(p).toMatchObject({ connected: false, cls: 'ClusterUnreachableError' });
    expect(p.hint).toContain('RAYTS_TLS_CERT');
  });
});

function cpuUsed(s: StatusJson): number {
  return s.usage.CPU?.used ?? -1;
}
