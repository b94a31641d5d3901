/**
 * The head's working_dir packages: one file per package under `<stateDir>/packages/`, named as in
 * its URI (`_rayts_pkg_<sha256>.tar.gz`). An upload streams to a temp file of its own in the same
 * folder while its sha256 is computed, is checked (digest against the name, every entry's safety)
 * and is renamed into place: a package file is complete or absent, and two uploads of one URI never
 * write the same file. Packages no job refers to are deleted after a TTL (the JobManager asks).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  PackageRejectedError, PackageTooLargeError, formatBytes, packageUri, parsePackageUri, shaOfPackageName, verifyPackage,
  type Logger,
} from '@rayts/common';
import type { PackageApi, PackageInfo } from '../jobs/job_api.js';

export interface PackageStoreOptions {
  /** `<stateDir>/packages`; created when missing. */
  dir: string;
  /** The largest package accepted (jobPackageMaxBytes). */
  maxBytes: number;
  logger: Logger;
}

export interface StoredPackage {
  uri: string;
  size: number;
  mtimeMs: number;
}

const TEMP_PREFIX = '.upload-';
/** A package may unpack to this many times its limit (the check of its entries refuses more). */
const UNPACKED_FACTOR = 8;

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

export class PackageStore implements PackageApi {
  readonly maxBytes: number;
  private readonly dir: string;
  private readonly logger: Logger;

  constructor(options: PackageStoreOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.logger = options.logger;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Uploads cut short by a crash of the head.
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(TEMP_PREFIX)) rmSync(join(this.dir, name), { force: true });
    }
  }

  private fileOf(uri: string): string {
    return join(this.dir, parsePackageUri(uri).name);
  }

  /** Whether the head has it. Asking about a package keeps it another TTL: a submission that refers to it follows. */
  info(uri: string): PackageInfo {
    const file = this.fileOf(uri);
    try {
      const { size } = statSync(file);
      const now = new Date();
      utimesSync(file, now, now);
      return { exists: true, size };
    } catch (err) {
      if (isMissing(err)) return { exists: false, size: 0 };
      throw err;
    }
  }

  /** The package's file, for downloads; undefined when the head does not have it. */
  path(uri: string): string | undefined {
    const file = this.fileOf(uri);
    try {
      return statSync(file).isFile() ? file : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  list(): StoredPackage[] {
    const out: StoredPackage[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const sha = shaOfPackageName(name);
      if (!sha) continue;
      try {
        const st = statSync(join(this.dir, name));
        out.push({ uri: packageUri(sha), size: st.size, mtimeMs: st.mtimeMs });
      } catch (err) {
        if (!isMissing(err)) throw err; // deleted meanwhile
      }
    }
    return out;
  }

  /** True when it was there. */
  delete(uri: string): boolean {
    const file = this.fileOf(uri);
    try {
      rmSync(file);
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
    this.logger.info('package deleted', { uri });
    return true;
  }

  /** Deletes the packages that no job refers to and that were stored (or last asked about) more than `olderThanMs` ago. */
  deleteUnreferenced(referenced: ReadonlySet<string>, olderThanMs: number): string[] {
    const cutoff = Date.now() - olderThanMs;
    const deleted: string[] = [];
    for (const p of this.list()) {
      if (referenced.has(p.uri) || p.mtimeMs > cutoff) continue;
      if (this.delete(p.uri)) deleted.push(p.uri);
    }
    return deleted;
  }

  /** `bytes` when the whole size is known (announced), else the upload just passed the limit. */
  private tooLarge(bytes?: number): PackageTooLargeError {
    const limit = `the head's limit of ${formatBytes(this.maxBytes)} (RAYTS_JOB_PACKAGE_MAX_BYTES)`;
    return new PackageTooLargeError(this.maxBytes,
      bytes === undefined ? `the package is larger than ${limit}` : `the package is ${formatBytes(bytes)}, over ${limit}`,
      'leave large files out with .gitignore or the runtime env\'s excludes, or raise RAYTS_JOB_PACKAGE_MAX_BYTES on the head');
  }

  /**
   * Stores an upload (see PackageApi.put). The body is read only as far as needed: not at all when
   * declaredBytes is over the limit, up to the limit when it is larger than declared. It is never
   * destroyed, so that the caller can still answer on the same connection.
   */
  async put(uri: string, body: Readable, declaredBytes?: number): Promise<{ size: number; existed: boolean }> {
    const file = this.fileOf(uri);
    const { sha256 } = parsePackageUri(uri);
    if (this.path(uri)) {
      await this.drain(body);
      this.info(uri);
      return { size: statSync(file).size, existed: true };
    }
    if (declaredBytes !== undefined && declaredBytes > this.maxBytes) throw this.tooLarge(declaredBytes);

    const temp = join(this.dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}-${parsePackageUri(uri).name}`);
    try {
      const { size, digest } = await this.receive(body, temp);
      if (declaredBytes !== undefined && size !== declaredBytes) {
        throw new PackageRejectedError(`the upload of ${uri} ended after ${size} of the ${declaredBytes} bytes announced`, 'upload it again');
      }
      if (digest !== sha256) {
        throw new PackageRejectedError(`the package's sha256 is ${digest}, but its name says ${sha256}: it changed or was cut short on the way`,
          'pack and upload it again (`rayts job submit` does both)');
      }
      await verifyPackage(temp, { maxUnpackedBytes: UNPACKED_FACTOR * this.maxBytes });
      if (this.path(uri)) {
        // Another upload of the same package finished first: the same bytes are in place already.
        await rm(temp, { force: true });
        return { size, existed: true };
      }
      await rename(temp, file);
      this.logger.info('package stored', { uri, size });
      return { size, existed: false };
    } catch (err) {
      await rm(temp, { force: true });
      if (err instanceof PackageRejectedError || err instanceof PackageTooLargeError) this.logger.warn('package refused', { uri, reason: err.message });
      throw err;
    }
  }

  /** Streams the body into `temp` (created, never overwritten), hashing it and stopping past maxBytes. */
  private async receive(body: Readable, temp: string): Promise<{ size: number; digest: string }> {
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
    const written = finished(out);
    written.catch(() => undefined); // observed below; an early failure must not be unhandled
    try {
      for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.maxBytes) throw this.tooLarge();
        hash.update(chunk);
        if (!out.write(chunk)) await Promise.race([once(out, 'drain'), written]);
      }
      out.end();
      await written;
    } catch (err) {
      out.destroy();
      throw err;
    }
    return { size, digest: hash.digest('hex') };
  }

  /** Reads and discards an upload of a package the head has already, up to the limit. */
  private async drain(body: Readable): Promise<void> {
    let size = 0;
    for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.maxBytes) throw this.tooLarge();
    }
  }
}
