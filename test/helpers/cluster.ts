/**
 * Test harness for tests that start real daemons. Every process a test starts inherits
 * RAYTS_TEST_MARKER=<unique id>, so cleanup finds them all (head, raylets, workers, supervisors) from
 * /proc and kills their process groups even when the test failed. Nothing here sleeps to wait: it
 * polls with deadlines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';
import { pollUntil, processesWithEnv, readProcStat, type HeadReady, type RayletReady } from '@rayts/common';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin/rayts.js');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartedNode {
  tempDir: string;
  sessionDir: string;
  nodeIp: string;
  /** Head address (for the head) or the address it joined. */
  gcsAddress: string;
  rayletPid: number;
  headPid?: number;
  /** The head's HTTP API (heads only; absent with --include-dashboard=false). */
  dashboardUrl?: string;
  result: RunResult;
}

/** Health settings short enough for tests, long enough for a loaded 2-core machine. */
export const FAST_HEALTH = {
  RAYTS_HEALTH_CHECK_INITIAL_DELAY_MS: '0',
  RAYTS_HEALTH_CHECK_PERIOD_MS: '500',
  RAYTS_HEALTH_CHECK_TIMEOUT_MS: '2000',
  RAYTS_HEALTH_CHECK_FAILURE_THRESHOLD: '3',
};

export class TestCluster {
  readonly marker = randomUUID();
  readonly root = mkdtempSync(join(tmpdir(), 'rayts-test-'));
  readonly env: NodeJS.ProcessEnv;
  /** The heads this test started, in order (the run through rayts:// points drivers at them). */
  readonly heads: StartedNode[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(extraEnv: Record<string, string> = {}) {
    this.env = {
      ...process.env,
      RAYTS_TEST_MARKER: this.marker,
      RAYTS_REGISTRY_DIR: join(this.root, 'registry'),
      // The host's record of clusters, per test: tests running at once must not see each other.
      RAYTS_CLUSTERS_DIR: join(this.root, 'clusters'),
      RAYTS_TMPDIR: join(this.root, 'default-tmp'),
      RAYTS_PRESTART_WORKERS: '1',
      // Private clusters (ray.init() with none running) would size their store at 30 % of memory;
      // tests run several at once, so they get ~2 % unless a test asks for more.
      RAYTS_OBJECT_STORE_MEMORY_PROPORTION: '0.02',
      NO_COLOR: '1',
      // Every head of a test serves remote drivers on a port of its own (the default 10001 is one per host).
      RAYTS_RAY_CLIENT_SERVER_PORT: '0',
      ...extraEnv,
    };
    delete this.env.RAYTS_ADDRESS;
    delete this.env.RAYTS_TOKEN;
  }

  tempDir(name: string): string {
    return join(this.root, name);
  }

  /** Runs `rayts ARGS` to completion (as `asUser`, if given). */
  rayts(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 90_000, asUser?: string, netns?: string): Promise<RunResult> {
    const child = this.spawnRayts(args, env, asUser, netns);
    return collect(child, timeoutMs);
  }

  /** Starts `rayts ARGS` and returns the running child (for --block and --follow); `asUser`: as that user (the test runs as root). */
  /** `rayts …` as a child of the test (as `asUser`, inside network namespace `netns` when given). */
  spawnRayts(args: string[], env: Record<string, string | undefined> = {}, asUser?: string, netns?: string): ChildProcess {
    const [command, argv] = inNetns(netns, commandAs(asUser, [process.execPath, BIN, ...args]));
    const child = spawn(command, argv, { env: { ...this.env, ...env }, cwd: this.root, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async startHead(options: { name?: string; ip?: string; numCpus?: number; args?: string[]; env?: Record<string, string>; netns?: string } = {}): Promise<StartedNode> {
    const tempDir = this.tempDir(options.name ?? 'head');
    const ip = options.ip ?? '127.0.0.1';
    // Tests run many heads at once on one host: none may take the default dashboard port 8265.
    const args = ['start', '--head', '--port=0', '--dashboard-port=0', `--node-ip-address=${ip}`, `--temp-dir=${tempDir}`, '--object-store-memory=100MiB'];
    if (options.numCpus !== undefined) args.push(`--num-cpus=${options.numCpus}`);
    const result = await this.rayts([...args, ...(options.args ?? [])], options.env, undefined, undefined, options.netns);
    if (result.code !== 0) throw new Error(`rayts start --head failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
    const sessionDir = realSession(tempDir);
    const head = readJsonFile<HeadReady>(join(sessionDir, 'head.json'));
    const raylet = readJsonFile<RayletReady>(join(sessionDir, 'raylet.json'));
    const started = { tempDir, sessionDir, nodeIp: ip, gcsAddress: head.address, rayletPid: raylet.pid, headPid: head.pid, dashboardUrl: head.dashboardUrl, result };
    this.heads.push(started);
    return started;
  }

  async startWorker(head: StartedNode, options: { name: string; ip: string; numCpus?: number; resources?: string; args?: string[]; env?: Record<string, string>; netns?: string }): Promise<StartedNode> {
    const tempDir = this.tempDir(options.name);
    const args = ['start', `--address=${head.gcsAddress}`, `--token-file=${join(head.tempDir, 'state', 'token')}`,
      `--node-ip-address=${options.ip}`, `--temp-dir=${tempDir}`, '--object-store-memory=100MiB'];
    if (options.numCpus !== undefined) args.push(`--num-cpus=${options.numCpus}`);
    if (options.resources) args.push(`--resources=${options.resources}`);
    const result = await this.rayts([...args, ...(options.args ?? [])], options.env, undefined, undefined, options.netns);
    if (result.code !== 0) throw new Error(`rayts start --address failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
    const sessionDir = realSession(tempDir);
    const raylet = readJsonFile<RayletReady>(join(sessionDir, 'raylet.json'));
    return { tempDir, sessionDir, nodeIp: options.ip, gcsAddress: head.gcsAddress, rayletPid: raylet.pid, result };
  }

  async statusJson(tempDir: string, netns?: string): Promise<StatusJson> {
    const r = await this.rayts(['status', '--json', `--temp-dir=${tempDir}`], {}, undefined, undefined, netns);
    if (r.code !== 0) throw new Error(`rayts status failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as StatusJson;
  }

  /** Polls `rayts status --json` until `predicate` holds. */
  async waitForStatus(tempDir: string, predicate: (s: StatusJson) => boolean, timeoutMs = 30_000, netns?: string): Promise<StatusJson> {
    let last: StatusJson | undefined;
    const ok = await pollUntil(async () => {
      try {
        last = await this.statusJson(tempDir, netns);
        return predicate(last);
      } catch {
        return false;
      }
    }, timeoutMs, 100);
    if (!ok) throw new Error(`status did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    return last!;
  }

  /** Every live process this test started (any depth), by the inherited marker. */
  processes(): number[] {
    return processesWithEnv('RAYTS_TEST_MARKER', this.marker);
  }

  /** Kills everything this test started (process groups first), then removes its temp dirs. */
  async cleanup(): Promise<{ leftover: number[] }> {
    for (const child of this.children) child.kill('SIGKILL');
    const killAll = () => {
      const pids = this.processes();
      for (const pid of pids) {
        // Only groups that one of our processes leads: a supervisor may share the test runner's group.
        const pgid = readProcStat(pid)?.pgid;
        try { if (pgid && pids.includes(pgid)) process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    };
    killAll();
    await pollUntil(() => { killAll(); return this.processes().length === 0; }, 10_000, 50);
    const leftover = this.processes();
    rmSync(this.root, { recursive: true, force: true });
    return { leftover };
  }
}

/** Checks a test file adds around the cleanup every test gets from useCluster(). */
export interface ClusterChecks {
  /** Runs after each test, before its clusters are killed (e.g. to check that nothing leaked). */
  beforeCleanup?(cluster: TestCluster): Promise<void> | void;
  /** Runs after each test's cluster was cleaned up, even when beforeCleanup failed. */
  afterCleanup?(cluster: TestCluster): Promise<void> | void;
}

/**
 * Registers an afterEach that cleans up every cluster the test made and expects no process of it
 * to survive; returns the function that makes them (`const cluster = newCluster({ ...env })`).
 */
export function useCluster(checks: ClusterChecks = {}): (extraEnv?: Record<string, string>) => TestCluster {
  let made: TestCluster[] = [];
  afterEach(async () => {
    const clusters = made;
    made = [];
    // Every cluster is cleaned up even when a check fails; the first failure is the test's.
    const failures: unknown[] = [];
    for (const cluster of clusters) {
      try { await checks.beforeCleanup?.(cluster); } catch (err) { failures.push(err); }
      const { leftover } = await cluster.cleanup();
      try {
        expect(leftover, 'processes of the test that survived SIGKILL').toEqual([]);
        await checks.afterCleanup?.(cluster);
      } catch (err) { failures.push(err); }
    }
    if (failures.length > 0) throw failures[0];
  });
  return (extraEnv = {}) => {
    const cluster = new TestCluster(extraEnv);
    made.push(cluster);
    return cluster;
  };
}

export interface StatusNode {
  nodeId: string;
  nodeIp: string;
  rayletPort: number;
  isHead: boolean;
  resourcesTotal: Record<string, number>;
  deathReason?: string;
  deathTimeMs?: number;
}

export interface StatusJson {
  clusterId: string;
  nodes: { active: StatusNode[]; pending: unknown[]; recentFailures: StatusNode[] };
  usage: Record<string, { used: number; total: number }>;
  pendingDemands: unknown[];
}

export function collect(child: ChildProcess, timeoutMs = 90_000): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`command timed out after ${timeoutMs} ms:\n${stdout}\n${stderr}`)); }, timeoutMs);
    child.once('close', (code, signal) => { clearTimeout(timer); resolvePromise({ code, signal, stdout, stderr }); });
  });
}

export function readJsonFile<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function realSession(tempDir: string): string {
  const link = join(tempDir, 'session_latest');
  if (!existsSync(link)) throw new Error(`no session under ${tempDir}`);
  return resolve(tempDir, readFileSync(join(link, 'session.json'), 'utf8') && JSON.parse(readFileSync(join(link, 'session.json'), 'utf8')).sessionDir);
}

/** The command line that runs `argv` as `user` (runuser keeps the environment and sets the user's groups), or as is. */
/** A command run inside a network namespace the test made (test/helpers/netns.ts), or as it is. */
export function inNetns(netns: string | undefined, [command, argv]: [string, string[]]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, command, ...argv]] : [command, argv];
}

export function commandAs(user: string | undefined, argv: string[]): [string, string[]] {
  return user ? ['runuser', ['-u', user, '--', ...argv]] : [argv[0]!, argv.slice(1)];
}

/** SIGKILLs the node's raylet and every worker it started, as a machine that loses power. */
export function killNode(node: StartedNode): void {
  const workers = readdirSync(join(node.sessionDir, 'pids', 'workers')).map((f) => Number(f.replace('.json', '')));
  for (const pid of [node.rayletPid, ...workers]) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

/** True while the pid runs (not a zombie). */
export function alive(pid: number): boolean {
  const stat = readProcStat(pid);
  return !!stat && stat.state !== 'Z';
}

/** TCP ports the process listens on (its socket inodes matched against /proc/net/tcp{,6} LISTEN rows). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}
