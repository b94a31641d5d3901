/**
 * A real Prometheus server (Debian's /usr/bin/prometheus) for tests: its own process group, a config
 * and storage under the test's root, listening on a free 127.0.0.1 port. It inherits the cluster's
 * RAYTS_TEST_MARKER, so the harness's cleanup kills it too if the test never reaches `stop()`.
 * A missing binary is a failure that says how to install it (CI installs it), never a skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import type { TestCluster } from './cluster.js';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

export function requirePrometheus(): void {
  if (!existsSync(PROMETHEUS) || !existsSync(PROMTOOL)) {
    throw new Error(`${PROMETHEUS} (and promtool) are needed by this test: install them with \`apt-get install prometheus\` (.ci/run does)`);
  }
}

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, resolve); });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunningPrometheus {
  url: string;
  /** What it printed (its log), for failure messages. */
  output(): string;
  /** GET on its HTTP API, parsed; undefined while it does not answer. */
  api<T>(path: string): Promise<T | undefined>;
  stop(): Promise<void>;
}

/** Starts Prometheus with `config` (YAML text) and waits until it is ready. */
export async function startPrometheus(cluster: TestCluster, config: string): Promise<RunningPrometheus> {
  requirePrometheus();
  const dir = join(cluster.root, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);
  const port = await freePort('127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(PROMETHEUS, [
    `--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=info',
  ], { env: cluster.env, cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const stop = async () => {
    if (child.pid === undefined) return;
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    await pollUntil(() => exited, 10_000, 20);
  };
  const api = async <T>(path: string): Promise<T | undefined> => {
    try {
      const res = await fetch(url + path);
      return res.ok ? (await res.json()) as T : undefined;
    } catch {
      return undefined;
    }
  };
  const ready = await pollUntil(async () => exited || (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)), 30_000, 100);
  if (!ready || exited) {
    await stop();
    throw new Error(`prometheus did not become ready on ${url}:\n${output}`);
  }
  return { url, output: () => output, api, stop };
}
