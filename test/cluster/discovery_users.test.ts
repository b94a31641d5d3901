/**
 * Discovery across users (needs root: it creates system users and runs rayts as them). A cluster
 * run by one user is found by another user's `rayts status` (an error naming its owner and token
 * file without a token, success with it) and `ray.init()` (a member of the owner's group with the
 * token joins and runs tasks on a node that shares its object store with the group; a non-member
 * gets the group error, and a node that keeps its store private says so); root's `rayts stop` leaves it
 * running and says so, `--address` stops it; `auto` with two users' clusters names both.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupMembers } from '@rayts/common';
import { BIN, ROOT, readJsonFile, useCluster, type TestCluster } from '../helpers/cluster.js';
import { makeUserProject, resultOf, runDriver } from '../helpers/driver.js';

const newCluster = useCluster();
const suffix = randomBytes(3).toString('hex');
/** The cluster's owner, a member of its group, and a user outside it. */
const OWNER = `rtst-owner-${suffix}`;
const DEV = `rtst-dev-${suffix}`;
const OUTSIDER = `rtst-out-${suffix}`;
const USERS = [OWNER, DEV, OUTSIDER];
const created: string[] = [];

function idOf(user: string, flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}

beforeAll(() => {
  if (process.getuid?.() !== 0) {
    throw new Error('test/cluster/discovery_users.test.ts must run as root: it creates system users (useradd) and runs rayts as them (runuser); CI runs it as root');
  }
  for (const user of USERS) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', user]);
    created.push(user);
  }
  execFileSync('usermod', ['-aG', OWNER, DEV]);
  try {
    execFileSync('runuser', ['-u', OWNER, '--', process.execPath, BIN, '--version'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`the repository ${ROOT} (and node at ${process.execPath}) must be readable by other users for this test `
      + `(chmod -R o+rX on it and the directories above): ${(err as { stderr?: Buffer }).stderr?.toString() ?? String(err)}`);
  }
});

afterAll(() => {
  // Members before the owner, whose group goes with it.
  for (const user of [...created].reverse()) {
    try { execFileSync('userdel', [user], { stdio: 'pipe' }); } catch { /* already gone */ }
    try { execFileSync('groupdel', [user], { stdio: 'pipe' }); } catch { /* removed with the user */ }
  }
});

interface Setup {
  cluster: TestCluster;
  /** Per-user settings: a registry and default temp dir of their own (as each user's uid would have). */
  envOf(user: string): Record<string, string>;
}

/** A test cluster whose root every user can cross, with the host's record of clusters sticky and world-writable. */
function setup(): Setup {
  const cluster = newCluster();
  chmodSync(cluster.root, 0o755);
  const clusters = join(cluster.root, 'clusters');
  mkdirSync(clusters);
  chmodSync(clusters, 0o1777);
  const envOf = (user: string) => {
    const home = join(cluster.root, `home-${user}`);
    if (!existsSync(home)) {
      mkdirSync(home, { mode: 0o755 });
      chownSync(home, idOf(user, '-u'), idOf(user, '-g'));
    }
    return { RAYTS_REGISTRY_DIR: join(home, 'registry'), RAYTS_TMPDIR: join(home, 'tmp') };
  };
  return { cluster, envOf };
}

/** The owner starts a head in a temp dir of its own; returns where it answers and its session. */
async function startOwnersHead({ cluster, envOf }: Setup, ip: string, env: Record<string, string> = {}): Promise<{ address: string; sessionDir: string; headPid: number; rayletPid: number }> {
  const tempDir = join(cluster.root, 'owner');
  mkdirSync(tempDir, { mode: 0o755 });
  chownSync(tempDir, idOf(OWNER, '-u'), idOf(OWNER, '-g'));
  const start = await cluster.rayts(['start', '--head', '--port=0', '--dashboard-port=0', `--node-ip-address=${ip}`, `--temp-dir=${tempDir}`,
    '--object-store-memory=100MiB', '--num-cpus=1'], { ...envOf(OWNER), ...env }, 90_000, OWNER);
  expect(start.code, `${start.stdout}\n${start.stderr}`).toBe(0);
  const head = readJsonFile<{ address: string; pid: number }>(join(tempDir, 'session_latest', 'head.json'));
  const raylet = readJsonFile<{ pid: number }>(join(tempDir, 'session_latest', 'raylet.json'));
  const sessionDir = JSON.parse(readFileSync(join(tempDir, 'session_latest', 'session.json'), 'utf8')).sessionDir as string;
  return { address: head.address, sessionDir, headPid: head.pid, rayletPid: raylet.pid };
}

describe('discovery across users', () => {
  it('another user finds the cluster, joins it with the token from the owner\'s group, and root stops it only when asked', async () => {
    const s = setup();
    const { cluster, envOf } = s;
    // The shared arena keeps its name while the node runs: in a dir of this test, not in the /dev/shm
    // that other tests check for leftovers.
    const shm = join(cluster.root, 'shm');
    mkdirSync(shm);
    chmodSync(shm, 0o1777);
    const owner = await startOwnersHead(s, '127.0.0.1', { RAYTS_OBJECT_STORE_SHARE_WITH_GROUP: '1', RAYTS_OBJECT_STORE_SHM_DIR: shm });
    const arena = readdirSync(shm).filter((n) => n.startsWith(`rayts-arena-${owner.rayletPid}-`));
    expect(arena).toHaveLength(1);
    expect(statSync(join(shm, arena[0]!)).mode & 0o777).toBe(0o660);
    const token = readFileSync(join(owner.sessionDir, 'token'), 'utf8').trim();

    // Without a token: the error says whose cluster it is and where its token is.
    const noToken = await cluster.rayts(['status'], envOf(DEV), 90_000, DEV);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain(`a rayts cluster of user ${OWNER} runs at ${owner.address}; its token is in ${join(owner.sessionDir, 'token')} `
      + `(mode 0600, readable by ${OWNER} and root)`);
    expect(noToken.stderr).toContain('--token-file FILE or set RAYTS_TOKEN');
    // With it: status works, as do the other commands that resolve the address.
    for (const args of [['status', '--json'], ['list', 'nodes', '--format=json'], ['memory', '--stats-only']]) {
      const r = await cluster.rayts(args, { ...envOf(DEV), RAYTS_TOKEN: token }, 90_000, DEV);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const status = await cluster.rayts(['status', '--json'], { ...envOf(DEV), RAYTS_TOKEN: token, RAYTS_ADDRESS: 'auto' }, 90_000, DEV);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).gcsAddress).toBe(owner.address);

    // A driver of the group member joins the owner's node and runs tasks there, objects included.
    const project = makeUserProject(cluster);
    const run = await runDriver(cluster, project, 'tasks/join_as_other_user.mjs', {}, { env: { ...envOf(DEV), RAYTS_TOKEN: token }, asUser: DEV });
    expect(run.code, run.stderr).toBe(0);
    const r = resultOf<{ address: string; nodeId: string; value: number; total: number; counts: number[]; driverUid: number; workerUid: number }>(run);
    expect(r).toMatchObject({ address: owner.address, value: 42, total: 65536, counts: [1, 2], driverUid: idOf(DEV, '-u'), workerUid: idOf(OWNER, '-u') });
    expect(run.stderr.split('\n').filter((l) => l.startsWith('Connecting to existing rayts cluster'))).toEqual([
      `Connecting to existing rayts cluster at ${owner.address} (node ${r.nodeId.slice(0, 12)}…, session ${owner.sessionDir}).`]);

    // A user outside the owner's group, even with the token, is told why and what to do.
    const outside = await runDriver(cluster, project, 'tasks/join_as_other_user.mjs', {}, { env: { ...envOf(OUTSIDER), RAYTS_TOKEN: token }, asUser: OUTSIDER });
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain(`ClusterPermissionError: the rayts cluster of user ${OWNER} at ${owner.address} shares this node`);
    expect(outside.stderr).toContain(`group ${OWNER}, and user ${OUTSIDER} is not one`);
    expect(outside.stderr).toContain(`sudo usermod -aG ${OWNER} ${OUTSIDER}`);
    expect(outside.stderr).not.toContain('Started a local rayts instance');

    // A user who is not the owner cannot stop it: a clear permission error, and it keeps running.
    const devStop = await cluster.rayts(['stop', '--address', owner.address], envOf(DEV), 90_000, DEV);
    expect(devStop.code).toBe(1);
    expect(devStop.stderr).toContain(`cannot stop the cluster of user ${OWNER} at ${owner.address}`);

    // Root's plain stop leaves another user's cluster running and says so.
    const rootStop = await cluster.rayts(['stop']);
    expect(rootStop.code, rootStop.stderr).toBe(0);
    expect(rootStop.stdout).toContain(`left the cluster of user ${OWNER} at ${owner.address} running; stop it with --address ${owner.address} or --all-users`);
    const still = await cluster.rayts(['status', '--json'], { ...envOf(DEV), RAYTS_TOKEN: token }, 90_000, DEV);
    expect(still.code, still.stderr).toBe(0);

    // --address stops it: raylet and head, their whole process groups, and its entry in the record.
    const groups = [owner.headPid, owner.rayletPid];
    const stop = await cluster.rayts(['stop', '--address', owner.address]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('Stopped all 2 rayts processes (1 session)');
    for (const pgid of groups) expect(groupMembers(pgid)).toEqual([]);
    // The shared arena file went with its raylet.
    expect(readdirSync(shm)).toEqual([]);
    expect(readdirSync(join(cluster.root, 'clusters'))).toEqual([]);
    const gone = await cluster.rayts(['status'], { ...envOf(DEV), RAYTS_TOKEN: token }, 90_000, DEV);
    expect(gone.code).toBe(3);
  });

  it('auto with root\'s cluster and another user\'s exits 2 naming both with their owners', async () => {
    const s = setup();
    const { cluster, envOf } = s;
    const owner = await startOwnersHead(s, '127.0.0.1');
    const mine = await cluster.startHead({ name: 'root', ip: '127.0.0.2', numCpus: 1 });
    for (const user of [DEV, undefined]) {
      const r = await cluster.rayts(['status'], { ...(user ? envOf(user) : {}), RAYTS_ADDRESS: 'auto' }, 90_000, user);
      expect(r.code, `${user ?? 'root'}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('several rayts clusters run on this host (RAYTS_ADDRESS=auto means the cluster this host runs)');
      expect(r.stderr).toContain(`${owner.address}  (user ${OWNER}, temp dir ${join(cluster.root, 'owner')})`);
      expect(r.stderr).toContain(`${mine.gcsAddress}  (user root, temp dir ${mine.tempDir})`);
    }
    // A node that keeps its object store to its owner (the default) says so to a group member's driver.
    const token = readFileSync(join(owner.sessionDir, 'token'), 'utf8').trim();
    const run = await runDriver(cluster, makeUserProject(cluster), 'tasks/join_as_other_user.mjs', {},
      { env: { ...envOf(DEV), RAYTS_TOKEN: token, RAYTS_ADDRESS: owner.address }, asUser: DEV });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`the rayts node of user ${OWNER} at ${owner.address} keeps its object store private to ${OWNER}`);
    expect(run.stderr).toContain('RAYTS_OBJECT_STORE_SHARE_WITH_GROUP=1');
    // --all-users (root) stops both.
    const stop = await cluster.rayts(['stop', '--all-users']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('Stopped all 4 rayts processes (2 sessions)');
    expect(cluster.processes()).toEqual([]);
  });
});
