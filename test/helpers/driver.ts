/**
 * Runs a driver program the way a user does: a .mjs file in its own directory, outside the repo,
 * whose `import 'rayts'` resolves through node_modules/rayts (a link to this checkout, as
 * `npm link rayts` or `npm install <checkout>` make).
 *
 * The programs live under test/fixtures/<area>/<name>.mjs. runDriver copies one into the project as
 * main.mjs (next to a copy of test/fixtures/lib, imported as `#lib/…`) and runs it with
 * `node main.mjs '<params as JSON>'` in the project directory; the program prints its findings as
 * one `RESULT <json>` line, which resultOf<T>() parses.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { pollUntil } from '@rayts/common';
import { join } from 'node:path';
import { ROOT, type RunResult, type TestCluster, collect, commandAs, inNetns } from './cluster.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { VIA_CLIENT, clientDriver, ensureClientCluster, type ClientClusterShape } from './via_client.js';

export const FIXTURES = join(ROOT, 'test', 'fixtures');

/** What a fixture reads as `params`: plain JSON values. */
export type DriverParams = Record<string, string | number | boolean | string[] | number[]>;

export interface DriverOptions {
  /** Added to the cluster's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Run the driver as this user (the test runs as root). */
  asUser?: string;
  /** Run the driver inside this network namespace (test/helpers/netns.ts). */
  netns?: string;
  /**
   * The run through rayts://, for a test that starts no cluster (its driver's private one): the CPUs of
   * the head and the worker node it gets instead (default 2 and 2).
   */
  clientCluster?: ClientClusterShape;
}

export function makeUserProject(cluster: TestCluster, name = 'app'): string {
  const dir = join(cluster.root, name);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'rayts'));
  cpSync(join(FIXTURES, 'lib'), join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `user-${name}`, type: 'module', private: true, imports: { '#lib/*': './lib/*' } }));
  return dir;
}

/** The source of a fixture (`'actors/counter_callers.mjs'`), as runDriver will run it. */
export function fixtureSource(fixture: string): string {
  return readFileSync(join(FIXTURES, fixture), 'utf8');
}

/** Copies `fixture` into the project as main.mjs and starts it with the cluster's environment. */
export function spawnDriver(cluster: TestCluster, dir: string, fixture: string, params: DriverParams = {}, options: DriverOptions = {}): ChildProcess {
  writeFileSync(join(dir, 'main.mjs'), fixtureSource(fixture));
  // The run through rayts:// (test/helpers/via_client.ts): the driver is a remote client of the test's head.
  const remote = VIA_CLIENT ? clientDriver(cluster, params) : undefined;
  const [command, argv] = inNetns(options.netns, commandAs(options.asUser, [process.execPath, 'main.mjs', JSON.stringify(remote?.params ?? params)]));
  return spawn(command, argv, { cwd: dir, env: { ...cluster.env, ...remote?.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `fixture` in the project to its end (see spawnDriver). */
export async function runDriver(cluster: TestCluster, dir: string, fixture: string, params: DriverParams = {}, options: DriverOptions = {}): Promise<RunResult> {
  if (!VIA_CLIENT) return collect(spawnDriver(cluster, dir, fixture, params, options), options.timeoutMs ?? 120_000);
  await ensureClientCluster(cluster, options.clientCluster);
  const run = await collect(spawnDriver(cluster, dir, fixture, params, options), options.timeoutMs ?? 120_000);
  if (/^(Connecting to existing rayts cluster|Started a local rayts instance)/m.test(run.stderr)) {
    throw new Error(`in the run through rayts:// the driver ${fixture} joined as a driver on a node:\n${run.stderr}`);
  }
  return run;
}

/**
 * Waits until SPREAD tasks submitted on the head's node land on `nodes` distinct nodes: a raylet
 * learns of the others from the head within a report period, so tests that spread work right after
 * a node joined run this first (tasks/spread_ready.mjs). Returns the node IPs seen.
 */
export async function awaitSpread(cluster: TestCluster, gcsAddress: string, nodes: number): Promise<string[]> {
  const probe = await runDriver(cluster, makeUserProject(cluster, 'spread-probe'), 'tasks/spread_ready.mjs', { address: gcsAddress, nodes });
  const seen = resultOf<{ nodeIps: string[] }>(probe).nodeIps;
  if (seen.length < nodes) throw new Error(`SPREAD reached ${seen.length} of ${nodes} nodes within the probe's deadline: ${seen.join(', ')}\n${probe.stderr}`);
  return seen;
}

/**
 * Parses the last line of stdout that starts with RESULT as JSON. `T` is what the fixture reports;
 * it is the test's statement of that shape, not checked at run time.
 */
export function resultOf<T>(run: RunResult): T {
  const line = run.stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

/** What a driver told with `tell(name, value)` in its project directory (waits for it). */
export async function told<T>(dir: string, name: string, timeoutMs = 60_000): Promise<T> {
  const path = join(dir, name);
  if (!(await pollUntil(() => existsSync(path), timeoutMs, 20))) throw new Error(`the driver never told '${name}' within ${timeoutMs} ms`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
