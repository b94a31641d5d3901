/**
 * Runs a driver program the way a user does: a .mjs file in its own directory, outside the repo,
 * whose `import 'rayts'` resolves through node_modules/rayts (a link to this checkout, as
 * `npm link rayts` or `npm install <checkout>` make).
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { pollUntil } from '@rayts/common';
import { join } from 'node:path';
import { ROOT, type RunResult, type TestCluster, collect } from './cluster.js';
import { spawn } from 'node:child_process';

export function makeUserProject(cluster: TestCluster, name = 'app'): string {
  const dir = join(cluster.root, name);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'rayts'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `user-${name}`, type: 'module', private: true }));
  return dir;
}

/** Writes `source` as main.mjs in the project and runs it with the cluster's environment. */
export function runDriver(cluster: TestCluster, dir: string, source: string, env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Promise<RunResult> {
  writeFileSync(join(dir, 'main.mjs'), source);
  const child = spawn(process.execPath, ['main.mjs'], { cwd: dir, env: { ...cluster.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child, timeoutMs);
}

/** Parses the last line of stdout that starts with RESULT as JSON. */
export function resultOf(run: RunResult): any {
  const line = run.stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(line.slice('RESULT '.length));
}

/** Driver-side helpers to talk with the test: wait for a file the test writes, and tell the test something by a file. */
export const SIGNALS = `
  import { existsSync, renameSync, writeFileSync } from 'node:fs';
  const waitFor = async (name) => { while (!existsSync(name)) await new Promise((r) => setTimeout(r, 20)); };
  const tell = (name, value) => { writeFileSync(name + '.tmp', JSON.stringify(value)); renameSync(name + '.tmp', name); };
`;

/** What a driver told with `tell(name, value)` in its project directory (waits for it). */
export async function told<T>(dir: string, name: string, timeoutMs = 60_000): Promise<T> {
  const path = join(dir, name);
  if (!(await pollUntil(() => existsSync(path), timeoutMs, 20))) throw new Error(`the driver never told '${name}' within ${timeoutMs} ms`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
