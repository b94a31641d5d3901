/**
 * From the runtime env a user wrote to the one the head stores: a local working_dir is packed and
 * uploaded (only when the head does not have that package yet) and replaced by its gcs:// URI.
 * The CLI (`rayts job submit`) and `init({ runtimeEnv })` both go through here.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PackageTooLargeError } from '../errors.js';
import { formatBytes } from '../format.js';
import type { PackageClient } from '../grpc/package_client.js';
import { packWorkingDir, type PackedDir } from './pack.js';
import { isPackageUri } from './package_uri.js';
import type { RuntimeEnv } from './runtime_env.js';

export interface ResolveRuntimeEnvOptions {
  /** A relative working_dir resolves against it. */
  baseDir: string;
  uploader: Pick<PackageClient, 'exists' | 'upload'>;
  /** Where the archive is written (deleted afterwards). */
  tmpDir: string;
  /** Told what happens, one line at a time ("Packing ./app: 12 files, 3.4 KiB"). */
  onStatus?: (line: string) => void;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The head's refusal, with where the bytes are: what to leave out. */
function withLargestFolders(err: PackageTooLargeError, packed: PackedDir): PackageTooLargeError {
  const folders = packed.largestFolders.map((f) => `${f.path} (${formatBytes(f.bytes)})`).join(', ');
  return new PackageTooLargeError(err.limitBytes,
    `${err.message}; it packs ${plural(packed.fileCount, 'file')} of ${formatBytes(packed.totalBytes)}, most of them in: ${folders}`, err.hint);
}

/**
 * Returns the env with working_dir replaced by its package URI (other fields unchanged). A
 * working_dir that is a package URI already is kept. RuntimeEnvError for a directory that cannot be
 * packed; PackageTooLargeError / PackageRejectedError when the head refuses the package.
 */
export async function resolveRuntimeEnv(env: RuntimeEnv, options: ResolveRuntimeEnvOptions): Promise<RuntimeEnv> {
  const workingDir = env.working_dir;
  if (workingDir === undefined || isPackageUri(workingDir)) return { ...env };
  const say = options.onStatus ?? (() => undefined);
  await mkdir(options.tmpDir, { recursive: true });
  const archive = join(options.tmpDir, `rayts-working-dir-${randomBytes(6).toString('hex')}.tar.gz`);
  try {
    const packed = await packWorkingDir(resolve(options.baseDir, workingDir), archive, { excludes: env.excludes });
    say(`Packing ${workingDir}: ${plural(packed.fileCount, 'file')}, ${formatBytes(packed.totalBytes)} (package ${formatBytes(packed.size)})`);
    const { exists } = await options.uploader.exists(packed.uri);
    if (exists) {
      say(`The head has ${packed.uri} already`);
    } else {
      say(`Uploading ${packed.uri} (${formatBytes(packed.size)})`);
      try {
        await options.uploader.upload(packed.uri, packed.file);
      } catch (err) {
        throw err instanceof PackageTooLargeError ? withLargestFolders(err, packed) : err;
      }
    }
    return { ...env, working_dir: packed.uri };
  } finally {
    await rm(archive, { force: true });
  }
}
