/**
 * `ray.init()` with no cluster around starts a private one: `rayts start --head --block` as a child
 * of the driver, in a temp dir of its own, watching the driver's pid so that it stops even if the
 * driver is killed. `shutdown()` stops it and removes the temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaemonStartError, pollUntil, readJson, type RayletReady } from '@rayts/common';

/** The `rayts` command's entry (the CLI's main module, resolved beside this package: in the
 * repository's workspaces and in an installed `rayts` alike). */
export const RAYTS_BIN = fileURLToPath(import.meta.resolve('@rayts/cli/main'));

export interface LocalCluster {
  tempDir: string;
  tokenFile: string;
  raylet: RayletReady;
  stop(): Promise<void>;
}

export async function startLocalCluster(options: { numCpus?: number; resources?: Record<string, number>; objectStoreMemory?: number; timeoutMs?: number } = {}): Promise<LocalCluster> {
  const tempDir = mkdtempSync(join(tmpdir(), 'rayts-local-'));
  const args = [RAYTS_BIN, 'start', '--head', '--block', '--port=0', '--dashboard-port=0', '--node-ip-address=127.0.0.1', `--temp-dir=${tempDir}`, `--watch-pid=${process.pid}`, '--cleanup-temp-dir', '--unlisted', '--ray-client-server-port=0'];
  if (options.numCpus !== undefined) args.push(`--num-cpus=${options.numCpus}`);
  if (options.resources) args.push(`--resources=${JSON.stringify(options.resources)}`);
  if (options.objectStoreMemory !== undefined) args.push(`--object-store-memory=${options.objectStoreMemory}`);
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], // Its log lines stay in its files (its stderr is only read for a start-up failure).
    env: { ...process.env, NO_COLOR: '1', RAYTS_LOG_TO_STDERR: '0' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const readyFile = join(tempDir, 'session_latest', 'raylet.json');
  const ok = await pollUntil(() => exited || existsSync(readyFile), options.timeoutMs ?? 60_000, 25);
  if (!ok || exited) {
    child.kill('SIGKILL');
    rmSync(tempDir, { recursive: true, force: true });
    throw new DaemonStartError(`could not start a local rayts cluster: ${stderr.trim().split('\n').slice(-3).join(' ') || 'timed out'}`);
  }
  child.stderr!.resume();
  const raylet = readJson<RayletReady>(readyFile)!;
  return {
    tempDir,
    tokenFile: join(tempDir, 'state', 'token'),
    raylet,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await pollUntil(() => exited, 30_000, 25);
        if (!exited) child.kill('SIGKILL');
      }
      rmSync(tempDir, { recursive: true, force: true });
    },
  };
}
