/**
 * What the jobs tests run against: a real PackageService (the head's, from @rayts/gcs) in this
 * process on 127.0.0.1, a real PackageClient, real npm, and projects written into temp directories
 * and packed as a user's working_dir is. Not compiled into the package (tsconfig excludes it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { PackageClient, SessionPaths, bindServer, createServer, nullLogger, packWorkingDir } from '@rayts/common';
import { PackageStore, addPackageService } from '@rayts/gcs';
import { NodeNpm, findNpmCli, type NpmRunner } from './npm.js';
import { RuntimeEnvs, type JobEnvLookup, type PackageDownloader } from './runtime_envs.js';

const TOKEN = 'f'.repeat(64);

export interface JobsHarness {
  root: string;
  paths: SessionPaths;
  client: PackageClient;
  /** Counts what reached the head (each call a real download). */
  downloads: PackageDownloader & { count: number };
  /** The real npm next to this node, counting its runs. */
  npm: NpmRunner & { runs: number };
  /** Writes the files (path → content) into a new project directory and returns it. */
  project(files: Record<string, string>): string;
  /** Packs and uploads a project as `rayts job submit` does; returns its gcs:// URI. */
  upload(dir: string): Promise<string>;
  envs(options?: { lookup?: JobEnvLookup; setupTimeoutMs?: number }): RuntimeEnvs;
  close(): Promise<void>;
}

export async function startJobsHarness(): Promise<JobsHarness> {
  const root = mkdtempSync(join(tmpdir(), 'rayts-jobs-'));
  const server: grpc.Server = createServer({ token: TOKEN, logger: nullLogger, maxMessageBytes: 8 << 20, authFailureLogIntervalMs: 60_000 });
  addPackageService(server, new PackageStore({ dir: join(root, 'head-packages'), maxBytes: 64 << 20, logger: nullLogger }), { jobPackageChunkBytes: 16 * 1024 }, nullLogger);
  const port = await bindServer(server, '127.0.0.1', 0, undefined, 'package test head');
  const client = new PackageClient(`127.0.0.1:${port}`, { token: TOKEN, timeoutMs: 10_000, chunkBytes: 16 * 1024 });
  const paths = new SessionPaths(join(root, 'session'));
  mkdirSync(paths.logs, { recursive: true });
  const downloads = { count: 0, download: (uri: string, dest: string) => { downloads.count += 1; return client.download(uri, dest); } };
  const realNpm = new NodeNpm(findNpmCli());
  const npm = { runs: 0, run: (...args: Parameters<NpmRunner['run']>) => { npm.runs += 1; return realNpm.run(...args); } };
  let projects = 0;
  const made: RuntimeEnvs[] = [];
  return {
    root, paths, client, downloads, npm,
    project(files) {
      const dir = join(root, `project-${++projects}`);
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), content);
      }
      return dir;
    },
    async upload(dir) {
      const packed = await packWorkingDir(dir, join(root, `upload-${++projects}.tar.gz`));
      await client.upload(packed.uri, packed.file);
      return packed.uri;
    },
    envs(options = {}) {
      const envs = new RuntimeEnvs({
        paths, packages: downloads, npm, logger: nullLogger, lookupRetryMs: 20,
        lookup: options.lookup ?? (async () => ({ found: false, runtimeEnvJson: '', finished: false })),
        setupTimeoutMs: options.setupTimeoutMs ?? 60_000,
      });
      made.push(envs);
      return envs;
    },
    async close() {
      for (const envs of made) envs.close();
      client.close();
      server.forceShutdown();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A project whose package-lock.json installs one dependency from a `file:` folder inside it. */
export function projectWithLocalDependency(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', dependencies: { greeter: 'file:greeter' } }),
    'package-lock.json': JSON.stringify({
      name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true,
      packages: {
        '': { name: 'app', version: '1.0.0', dependencies: { greeter: 'file:greeter' } },
        greeter: { version: '1.0.0' },
        'node_modules/greeter': { resolved: 'greeter', link: true },
      },
    }, null, 2),
    'greeter/package.json': JSON.stringify({ name: 'greeter', version: '1.0.0', main: 'index.js' }),
    'greeter/index.js': 'exports.greet = (who) => `hello ${who}`;\n',
    ...extra,
  };
}
