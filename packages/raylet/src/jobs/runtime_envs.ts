/**
 * Jobs' runtime envs on this node (Ray's runtime env agent, for working_dir and env_vars). A
 * working_dir package is prepared once per sha256 and shared by every job that uses it: downloaded
 * from the head to `<root>/packages/<name>`, unpacked to `<root>/working_dir/<sha256>/`, and when it
 * has a package-lock.json (and the env does not say `npm: false`) its node_modules installed with
 * `npm ci` — at most once per lock file per node: a package whose lock file another one here has
 * installed already copies that one's node_modules. Concurrent callers share one promise.
 *
 * Each key (a job id, or `submission:<id>` for a job's driver) that prepared a package holds it;
 * `release` drops the hold, and a package nobody holds is deleted (its directory and its archive).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  ClusterUnreachableError, extractPackage, needsSetup, parsePackageUri, parseRuntimeEnvJson, sha256OfFile,
  type Logger, type PackageClient, type RuntimeEnv, type SessionPaths,
} from '@rayts/common';
import { RuntimeEnvSetupError } from '../errors.js';
import { OutputExcerpt, type NpmRunner } from './npm.js';
import { NodeModulesCache, linkRayts } from './node_modules.js';

/** A job's env as its workers (or its driver) run in it: `dir` is unset when the job has no working_dir. */
export interface PreparedEnv {
  dir?: string;
  envVars: Record<string, string>;
}

/** The env of a job without a runtime env: shared, and cached per job so that such jobs cost nothing per task. */
export const NO_ENV: PreparedEnv = Object.freeze({ envVars: Object.freeze({}) as Record<string, string> });

/** The head's record of a job's runtime env (GcsClient.getJobRuntimeEnv). */
export type JobEnvLookup = (jobId: string) => Promise<{ found: boolean; runtimeEnvJson: string; finished: boolean }>;

/** Fetches a package from the head into a file, checking its sha256. */
export type PackageDownloader = Pick<PackageClient, 'download'>;

export interface RuntimeEnvsOptions {
  paths: SessionPaths;
  packages: PackageDownloader;
  lookup: JobEnvLookup;
  npm: NpmRunner;
  logger: Logger;
  /** Bound of one setup (download, unpack, npm ci) and of a job's lookup while the head is unreachable. */
  setupTimeoutMs: number;
  /** Pause between lookups while the head is unreachable. */
  lookupRetryMs: number;
}

/** Jobs without a runtime env remembered at most (beyond, they are forgotten and looked up again when seen). */
const NO_ENV_JOBS_KEPT = 10_000;

/** One package on this node: unpacked once, held by the keys that use it. */
interface PackageEntry {
  sha256: string;
  uri: string;
  archive: string;
  dir: string;
  holders: Set<string>;
  /** Download and unpack (then `lockHash` is known). */
  unpacked: Promise<void>;
  /** sha256 of its package-lock.json, when it has one. */
  lockHash?: string;
  /** node_modules being installed (npm ci, or a copy); reset after a failure so that a later job tries again. */
  install?: Promise<void>;
  installed: boolean;
  /** Where the output of its npm run goes besides the raylet's log: each waiting caller's log. */
  listeners: Set<(line: string) => void>;
  /** Its work in flight: aborted when nobody holds it any more (npm is killed). */
  controllers: Set<AbortController>;
  /** Settles once no work on it runs (its files may be removed then). */
  settled: Promise<unknown>;
}

export class RuntimeEnvs {
  private readonly root: string;
  private readonly packages = new Map<string, PackageEntry>();
  /** The package each key holds. */
  private readonly held = new Map<string, string>();
  /** Removals in progress, by sha256: a new preparation of the same package waits for it. */
  private readonly removing = new Map<string, Promise<void>>();
  /** Each job's env on this node, known or being prepared (looked up once per job). */
  private readonly jobs = new Map<string, PreparedEnv | Promise<PreparedEnv>>();
  /** Installed node_modules by lock-file hash, kept after their packages go. */
  private readonly nodeModules: NodeModulesCache;
  private closed = false;

  constructor(private readonly options: RuntimeEnvsOptions) {
    this.root = join(options.paths.dir, 'runtime_resources');
    this.nodeModules = new NodeModulesCache(join(this.root, 'npm'));
  }

  /**
   * Prepares `env` for `key` (which then holds its package): resolves with the directory to run in
   * (unset without a working_dir) and the env vars. `log` gets progress and npm's output. Rejects with
   * RuntimeEnvSetupError (the key then holds nothing).
   */
  async prepare(key: string, env: RuntimeEnv, log?: (line: string) => void): Promise<PreparedEnv> {
    const envVars = { ...(env.env_vars ?? {}) };
    if (!env.working_dir) return { envVars };
    if (this.closed) throw new RuntimeEnvSetupError('the raylet is stopping');
    let sha256: string;
    try {
      ({ sha256 } = parsePackageUri(env.working_dir));
    } catch (err) {
      throw new RuntimeEnvSetupError((err as Error).message);
    }
    const entry = this.hold(key, sha256, env.working_dir);
    if (log) entry.listeners.add(log);
    try {
      await this.bounded(this.ready(entry, env.npm !== false, log));
    } catch (err) {
      this.drop(key);
      throw asSetupError(err);
    } finally {
      if (log) entry.listeners.delete(log);
    }
    log?.(`working_dir ready: ${entry.dir}`);
    return { dir: entry.dir, envVars };
  }

  /**
   * A job's env for its workers on this node: synchronous once known (a job without a runtime env
   * costs a map lookup per task), else a promise shared by every caller until it is ready. The job
   * holds its package until `release(jobId)`.
   */
  forJob(jobId: string): PreparedEnv | Promise<PreparedEnv> {
    const known = this.jobs.get(jobId);
    if (known) return known;
    const preparing: Promise<PreparedEnv> = this.lookupAndPrepare(jobId).then((env) => {
      if (this.jobs.get(jobId) !== preparing) {
        // Released (the job finished) while it was being prepared: nobody holds it now (unless asked again since).
        if (!this.jobs.has(jobId)) this.drop(jobId);
        throw new RuntimeEnvSetupError(`job ${jobId} finished while its runtime env was being prepared`);
      }
      this.jobs.set(jobId, env);
      if (env === NO_ENV && this.jobs.size > NO_ENV_JOBS_KEPT) this.forgetPlainJobs();
      return env;
    }, (err: unknown) => {
      if (this.jobs.get(jobId) === preparing) this.jobs.delete(jobId);
      throw err;
    });
    this.jobs.set(jobId, preparing);
    return preparing;
  }

  /**
   * What a driver of this node said its job's runtime env is (as it registered it with the head): a
   * job without one is known at once; one with a working_dir starts preparing. A malformed or
   * missing env leaves the job to be looked up as usual.
   */
  prime(jobId: string, runtimeEnvJson: string): void {
    if (this.jobs.has(jobId)) return;
    let env: RuntimeEnv;
    try {
      env = parseRuntimeEnvJson(runtimeEnvJson);
    } catch {
      return;
    }
    if (!needsSetup(env)) {
      this.jobs.set(jobId, NO_ENV);
      return;
    }
    void Promise.resolve(this.forJob(jobId)).catch(() => undefined);
  }

  /** Forgets the jobs known to have no runtime env (a long-lived node sees many); the others stay. */
  private forgetPlainJobs(): void {
    for (const [jobId, env] of this.jobs) if (env === NO_ENV) this.jobs.delete(jobId);
  }

  /** Drops what `key` holds; a package nobody holds any more is deleted. */
  release(key: string): void {
    this.jobs.delete(key);
    this.drop(key);
  }

  /** Jobs whose runtime env this node has (or is preparing): the head says which of them have finished. */
  heldJobIds(): string[] {
    return [...this.jobs].filter(([, env]) => env !== NO_ENV).map(([jobId]) => jobId);
  }

  /** Stops what runs (npm is killed); files stay (the session directory keeps them). */
  close(): void {
    this.closed = true;
    for (const entry of this.packages.values()) for (const c of entry.controllers) c.abort();
  }

  private async lookupAndPrepare(jobId: string): Promise<PreparedEnv> {
    const record = await this.lookup(jobId);
    if (!record.found || record.runtimeEnvJson.trim() === '') return NO_ENV;
    if (record.finished) throw new RuntimeEnvSetupError(`job ${jobId} has finished`);
    let env: RuntimeEnv;
    try {
      env = parseRuntimeEnvJson(record.runtimeEnvJson);
    } catch (err) {
      throw new RuntimeEnvSetupError(`the head's runtime env of job ${jobId} is not usable: ${(err as Error).message}`);
    }
    if (!needsSetup(env)) return NO_ENV;
    const started = performance.now();
    const prepared = await this.prepare(jobId, env);
    this.options.logger.info('runtime env ready', {
      jobId, workingDir: env.working_dir, dir: prepared.dir, envVars: Object.keys(prepared.envVars), ms: Math.round(performance.now() - started),
    });
    return prepared;
  }

  /** The head's record of the job, asked again while the head is unreachable (up to the setup timeout). */
  private async lookup(jobId: string): ReturnType<JobEnvLookup> {
    const deadline = performance.now() + this.options.setupTimeoutMs;
    for (;;) {
      try {
        return await this.options.lookup(jobId);
      } catch (err) {
        if (!(err instanceof ClusterUnreachableError) || performance.now() > deadline || this.closed) {
          throw new RuntimeEnvSetupError(`could not ask the head for the runtime env of job ${jobId}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, this.options.lookupRetryMs));
      }
    }
  }

  private hold(key: string, sha256: string, uri: string): PackageEntry {
    if (this.held.get(key) !== sha256) this.drop(key);
    let entry = this.packages.get(sha256);
    if (!entry) {
      entry = {
        sha256, uri, archive: join(this.root, 'packages', parsePackageUri(uri).name), dir: join(this.root, 'working_dir', sha256),
        holders: new Set(), installed: false, listeners: new Set(), controllers: new Set(), unpacked: Promise.resolve(), settled: Promise.resolve(),
      };
      const e = entry;
      e.unpacked = this.track(e, (signal) => this.unpack(e, signal));
      this.packages.set(sha256, entry);
    }
    entry.holders.add(key);
    this.held.set(key, sha256);
    return entry;
  }

  private drop(key: string): void {
    const sha256 = this.held.get(key);
    if (sha256 === undefined) return;
    this.held.delete(key);
    const entry = this.packages.get(sha256);
    if (!entry) return;
    entry.holders.delete(key);
    if (entry.holders.size === 0) this.remove(entry);
  }

  /** Nobody holds the package: its work stops and its files go (before it may be prepared again). */
  private remove(entry: PackageEntry): void {
    this.packages.delete(entry.sha256);
    for (const c of entry.controllers) c.abort();
    const removal = entry.settled
      .then(() => Promise.all([rm(entry.dir, { recursive: true, force: true }), rm(entry.archive, { force: true })]))
      .then(() => this.options.logger.info('runtime env package removed', { uri: entry.uri }))
      .catch((err: Error) => this.options.logger.warn('could not remove a runtime env package', { uri: entry.uri, error: err.message }))
      .finally(() => { if (this.removing.get(entry.sha256) === removal) this.removing.delete(entry.sha256); });
    this.removing.set(entry.sha256, removal);
  }

  private async ready(entry: PackageEntry, npm: boolean, log?: (line: string) => void): Promise<void> {
    await entry.unpacked;
    if (npm && entry.lockHash && !entry.installed) {
      if (!entry.install) {
        // Chosen and set in one turn: two packages with the same lock file never both run npm.
        const source = [...this.packages.values()].find((o) => o !== entry && o.lockHash === entry.lockHash && o.install);
        const install = this.track(entry, (signal) => this.installNodeModules(entry, source, signal));
        entry.install = install.then(() => { entry.installed = true; }, (err: unknown) => {
          if (entry.install === install) entry.install = undefined;
          throw err;
        });
        entry.install.catch(() => undefined);
      } else {
        log?.(`waiting for node_modules being installed in ${entry.dir}`);
      }
      await entry.install;
    }
    try {
      if (await linkRayts(entry.dir)) this.emit(entry, 'node_modules/rayts linked to the rayts this node runs (the working_dir installs none)');
    } catch (err) {
      // Two jobs linking at once: the other one made it.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }

  /** Runs work on a package, abortable; `settled` covers it. */
  private track<T>(entry: PackageEntry, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    entry.controllers.add(controller);
    const running = work(controller.signal).finally(() => entry.controllers.delete(controller));
    entry.settled = Promise.allSettled([entry.settled, running]);
    running.catch(() => undefined);
    // Its own bound too, so that a setup nobody waits for any more still ends (npm is killed).
    const timer = setTimeout(() => controller.abort(), this.options.setupTimeoutMs).unref();
    void running.catch(() => undefined).finally(() => clearTimeout(timer));
    return running;
  }

  /** Progress and npm's output: to every caller waiting for the package, and once to the raylet's log. */
  private emit(entry: PackageEntry, line: string): void {
    if (line.trim() === '') return;
    for (const listener of entry.listeners) listener(line);
    this.options.logger.info('runtime env setup', { uri: entry.uri, line });
  }

  private async unpack(entry: PackageEntry, signal: AbortSignal): Promise<void> {
    await this.removing.get(entry.sha256);
    await mkdir(join(this.root, 'packages'), { recursive: true });
    await mkdir(join(this.root, 'working_dir'), { recursive: true });
    const reuse = existsSync(entry.archive) && (await sha256OfFile(entry.archive)) === entry.sha256;
    if (!reuse) {
      this.emit(entry, `downloading ${entry.uri}`);
      let bytes: number;
      try {
        bytes = await this.options.packages.download(entry.uri, entry.archive);
      } catch (err) {
        throw new RuntimeEnvSetupError(`could not download the working_dir package from the head: ${(err as Error).message}`);
      }
      this.emit(entry, `downloaded ${entry.uri} (${bytes} bytes)`);
    }
    throwIfAborted(signal, entry);
    // Left by an earlier raylet of this session: unpacked again, whole.
    await rm(entry.dir, { recursive: true, force: true });
    let contents: Awaited<ReturnType<typeof extractPackage>>;
    try {
      contents = await extractPackage(entry.archive, entry.dir);
    } catch (err) {
      throw new RuntimeEnvSetupError(`could not unpack the working_dir package ${entry.uri}: ${(err as Error).message}`);
    }
    this.emit(entry, `unpacked ${contents.fileCount} files into ${entry.dir}`);
    throwIfAborted(signal, entry);
    const lock = join(entry.dir, 'package-lock.json');
    if (existsSync(lock)) entry.lockHash = createHash('sha256').update(await readFile(lock)).digest('hex');
  }

  /** node_modules from another package here with the same lock file, else from `npm ci`. */
  private async installNodeModules(entry: PackageEntry, source: PackageEntry | undefined, signal: AbortSignal): Promise<void> {
    const target = join(entry.dir, 'node_modules');
    if (await this.nodeModules.restore(entry.lockHash!, target)) {
      this.emit(entry, 'node_modules copied from this node\'s earlier install of the same package-lock.json; npm ci not run again');
      return;
    }
    if (source) {
      try {
        await source.install;
        throwIfAborted(signal, entry);
        await cp(join(source.dir, 'node_modules'), target, { recursive: true, verbatimSymlinks: true });
        this.emit(entry, `node_modules copied from ${source.dir} (same package-lock.json; npm ci not run again)`);
        return;
      } catch (err) {
        if (signal.aborted) throw err;
        this.emit(entry, `could not reuse node_modules of ${source.dir} (${(err as Error).message}): running npm ci`);
        await rm(target, { recursive: true, force: true });
      }
    }
    await this.npmCi(entry, signal);
    await this.nodeModules.save(entry.lockHash!, target);
  }

  private async npmCi(entry: PackageEntry, signal: AbortSignal): Promise<void> {
    const excerpt = new OutputExcerpt();
    this.emit(entry, `npm ci in ${entry.dir}`);
    const code = await this.options.npm.run(['ci', '--no-audit', '--no-fund'], entry.dir, (line) => {
      excerpt.add(line);
      this.emit(entry, line);
    }, signal);
    throwIfAborted(signal, entry);
    if (code !== 0) {
      const output = excerpt.toString();
      throw new RuntimeEnvSetupError(`npm ci failed in the working_dir (${entry.uri}) with exit code ${code}:\n${output}`, code, output,
        'fix package.json / package-lock.json (run `npm ci` in the directory yourself to see the same error), or set "npm": false in the runtime env');
    }
  }

  /** The caller's wait, bounded by the setup timeout. */
  private bounded<T>(work: Promise<T>): Promise<T> {
    const ms = this.options.setupTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const bound = ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
      timer = setTimeout(() => reject(new RuntimeEnvSetupError(`the runtime env setup took longer than ${bound}`, undefined, undefined,
        'raise RAYTS_JOB_RUNTIME_ENV_SETUP_TIMEOUT_S on the nodes, or make the working_dir smaller')), ms);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

function throwIfAborted(signal: AbortSignal, entry: PackageEntry): void {
  if (signal.aborted) throw new RuntimeEnvSetupError(`the setup of ${entry.uri} was stopped (timed out, no job needs it any more, or the raylet is stopping)`);
}

function asSetupError(err: unknown): Error {
  if (err instanceof RuntimeEnvSetupError) return err;
  return new RuntimeEnvSetupError(err instanceof Error ? err.message : String(err));
}
