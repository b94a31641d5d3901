/**
 * `rayts start --block`: the command supervises its daemons. An unexpected exit is reported with its
 * cause, written to ray_process_exit.log, the rest are stopped and the command exits 1 (so systemd
 * restarts the node). SIGTERM stops everything and exits 0.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { collect, readJsonFile, useCluster, type TestCluster } from '../helpers/cluster.js';

const newCluster = useCluster();

function startBlocking(c: TestCluster, tempDir: string) {
  const child = c.spawnRayts(['start', '--head', '--block', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${tempDir}`, '--num-cpus=1', '--object-store-memory=100MiB']);
  const result = collect(child, 120_000);
  return { child, result };
}

async function readySession(tempDir: string): Promise<string> {
  const latest = join(tempDir, 'session_latest');
  expect(await pollUntil(() => existsSync(join(latest, 'raylet.json')) && existsSync(join(latest, 'pids', 'supervisor.pid')), 60_000)).toBe(true);
  return latest;
}

describe('start --block', () => {
  it('reports a daemon that dies unexpectedly, stops the rest and exits 1', async () => {
    const cluster = newCluster();
    const tempDir = cluster.tempDir('blocked');
    const { result } = startBlocking(cluster, tempDir);
    const session = await readySession(tempDir);
    const raylet = readJsonFile<{ pid: number }>(join(session, 'raylet.json'));
    process.kill(raylet.pid, 'SIGKILL');
    const r = await result;
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Rayts runtime started.');
    expect(r.stderr).toContain('--block');
    expect(r.stderr).toContain('Some rayts processes died unexpectedly:');
    expect(r.stderr).toContain('raylet [killed by SIGKILL]');
    expect(readFileSync(join(session, 'logs', 'ray_process_exit.log'), 'utf8')).toMatch(/raylet \(pid \d+\) killed by SIGKILL/);
    // The head was stopped with it.
    expect(cluster.processes()).toEqual([]);
  });

  it('SIGTERM stops every daemon and exits 0', async () => {
    const cluster = newCluster();
    const tempDir = cluster.tempDir('blocked');
    const { child, result } = startBlocking(cluster, tempDir);
    const session = await readySession(tempDir);
    const status = await cluster.statusJson(tempDir);
    expect(status.nodes.active).toHaveLength(1);
    child.kill('SIGTERM');
    const r = await result;
    expect(r.code).toBe(0);
    expect(existsSync(join(session, 'logs', 'ray_process_exit.log'))).toBe(false);
    expect(cluster.processes()).toEqual([]);
  });

  it('rayts stop ends a blocked session cleanly (exit 0, nothing reported)', async () => {
    const cluster = newCluster();
    const tempDir = cluster.tempDir('blocked');
    const { result } = startBlocking(cluster, tempDir);
    await readySession(tempDir);
    const stop = await cluster.rayts(['stop', `--temp-dir=${tempDir}`]);
    expect(stop.code).toBe(0);
    const r = await result;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('died unexpectedly');
    expect(cluster.processes()).toEqual([]);
  });
});

describe('start --block with RAYTS_LOG_TO_STDERR=1 (journald)', () => {
  /** JSON log lines of `component` in `text` (one object per line, as in logs/<component>.log). */
  const logLines = (text: string, component: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try { return JSON.parse(l) as { component?: string; msg?: string }; } catch { return {}; }
  }).filter((r) => r.component === component);

  for (const [how, args, env] of [
    ['RAYTS_LOG_TO_STDERR=1', [], { RAYTS_LOG_TO_STDERR: '1' }],
    ['--log-to-stderr', ['--log-to-stderr'], {}],
  ] as const) {
    it(`${how}: the head's and the raylet's log lines come out on the supervisor's stderr, and stay in their files`, async () => {
      const cluster = newCluster();
      const tempDir = cluster.tempDir('blocked');
      const child = cluster.spawnRayts(['start', '--head', '--block', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${tempDir}`,
        '--num-cpus=1', '--object-store-memory=100MiB', ...args], env);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      const result = collect(child, 120_000);
      const session = await readySession(tempDir);
      expect(await pollUntil(() => logLines(stderr, 'gcs_server').length > 0 && logLines(stderr, 'raylet').length > 0, 30_000)).toBe(true);
      child.kill('SIGTERM');
      const r = await result;
      expect(r.code, `signal ${r.signal}; stderr:\n${r.stderr.slice(-3000)}`).toBe(0);
      // The lines the head and the raylet logged while stopping came through too, and every line on
      // stderr is one of the daemon's log file.
      for (const component of ['gcs_server', 'raylet']) {
        const fileLines = readFileSync(join(session, 'logs', `${component}.log`), 'utf8').trim().split('\n');
        const passed = r.stderr.split('\n').filter((l) => l.includes(`"component":"${component}"`));
        expect(passed.length).toBeGreaterThan(0);
        for (const line of passed) expect(fileLines).toContain(line);
        expect(logLines(r.stderr, component).some((l) => l.msg === 'stopping')).toBe(true);
      }
      expect(cluster.processes()).toEqual([]);
    });
  }

  it('without it, the supervisor\'s stderr has none of the daemons\' log lines', async () => {
    const cluster = newCluster();
    const tempDir = cluster.tempDir('blocked');
    const { child, result } = startBlocking(cluster, tempDir);
    await readySession(tempDir);
    child.kill('SIGTERM');
    const r = await result;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('"component":');
  });
});
