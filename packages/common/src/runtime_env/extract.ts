/**
 * Checks and unpacks working_dir packages. The head checks every upload before it keeps it, and a
 * raylet checks again before it unpacks: a package is refused (never silently repaired) when an
 * entry has an absolute path or a `..` segment, is a symlink that is absolute or leads out of the
 * package (also through other symlinks), goes through a symlink, is a hard link, a device, a fifo
 * or any other special entry, carries setuid/setgid/sticky bits, appears twice, or when the
 * unpacked bytes pass a limit. Unpacking goes into a fresh temp sibling of the destination, which
 * is renamed into place once complete.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Parser, extract, type ReadEntry } from 'tar';
import { TUNABLES } from '../config.js';
import { AlreadyExistsError, PackageRejectedError } from '../errors.js';
import { formatBytes } from '../format.js';
import { entryKey, entryPathProblem, symlinkAncestor, symlinkProblem } from './archive_paths.js';

export interface PackageContents {
  /** Regular files. */
  fileCount: number;
  /** Their uncompressed bytes. */
  totalBytes: number;
}

export interface UnpackOptions {
  /** Refuse a package whose files add up to more (default 8 × the jobPackageMaxBytes default). */
  maxUnpackedBytes?: number;
}

export const DEFAULT_MAX_UNPACKED_BYTES = 8 * TUNABLES.jobPackageMaxBytes.default;

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** tar's own guard (1000×) would refuse a legitimate package of very compressible files; the byte limit guards instead. */
const NO_RATIO_LIMIT = Number.MAX_SAFE_INTEGER;
const ALLOWED_TYPES = new Set(['File', 'OldFile', 'Directory', 'SymbolicLink']);

function reject(path: string, why: string): PackageRejectedError {
  return new PackageRejectedError(`unsafe entry '${path}' in the package: ${why}`,
    'packages are made by `rayts job submit` / init({ runtimeEnv }); this one was built by something else or tampered with');
}

function typeProblem(type: string): string | undefined {
  if (ALLOWED_TYPES.has(type)) return undefined;
  switch (type) {
    case 'Link': return 'hard links are not allowed';
    case 'CharacterDevice':
    case 'BlockDevice': return 'device files are not allowed';
    case 'FIFO': return 'fifos are not allowed';
    default: return `entries of type ${type} are not allowed (only files, directories and symlinks)`;
  }
}

/** What is wrong with one entry on its own (path, type, mode, link target form), or undefined. */
function entryProblem(entry: ReadEntry): string | undefined {
  const path = entryPathProblem(entry.path);
  if (path) return path;
  const type = typeProblem(entry.type);
  if (type) return type;
  if ((entry.mode ?? 0) & 0o7000) return 'setuid, setgid and sticky bits are not allowed';
  if (entry.type === 'SymbolicLink') {
    const target = entry.linkpath ?? '';
    if (target === '' || target.startsWith('/')) return `the symlink's target '${target}' is ${target === '' ? 'empty' : 'absolute'}`;
  }
  return undefined;
}

/** Follows the entries of one package and refuses the first unsafe one. */
class EntryChecker {
  readonly contents: PackageContents = { fileCount: 0, totalBytes: 0 };
  private readonly seen = new Set<string>();
  private readonly links = new Map<string, string>();

  constructor(private readonly maxUnpackedBytes: number) {}

  /** Throws PackageRejectedError for an entry that is unsafe on its own or with what came before. */
  add(entry: ReadEntry): void {
    const problem = entryProblem(entry);
    if (problem) throw reject(entry.path, problem);
    const key = entryKey(entry.path);
    if (this.seen.has(key)) throw reject(entry.path, 'it appears twice');
    this.seen.add(key);
    const via = symlinkAncestor(key, this.links);
    if (via) throw reject(entry.path, `it goes through the symlink '${via}'`);
    if (entry.type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      this.links.set(key, target);
      const linkProblem = symlinkProblem(key, target, this.links);
      if (linkProblem) throw reject(entry.path, `the symlink to '${target}' ${linkProblem}`);
    } else if (entry.type !== 'Directory') {
      this.contents.fileCount += 1;
      this.contents.totalBytes += entry.size ?? 0;
      if (this.contents.totalBytes > this.maxUnpackedBytes) {
        throw reject(entry.path, `the files unpack to more than ${formatBytes(this.maxUnpackedBytes)}`);
      }
    }
  }

  /** Checks that need every entry: a link followed through links that came later, a path under a later link. */
  finish(): void {
    for (const [link, target] of this.links) {
      const problem = symlinkProblem(link, target, this.links);
      if (problem) throw reject(link, `the symlink to '${target}' ${problem}`);
    }
    for (const key of this.seen) {
      const via = symlinkAncestor(key, this.links);
      if (via) throw reject(key, `it goes through the symlink '${via}'`);
    }
  }
}

async function checkGzipMagic(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    if (bytesRead < 2 || !head.equals(GZIP_MAGIC)) {
      throw new PackageRejectedError('the package is not a gzip file (a working_dir package is a .tar.gz)',
        'make packages with `rayts job submit --working-dir DIR` or init({ runtimeEnv: { working_dir } })');
    }
  } finally {
    await handle.close();
  }
}

function notTarGz(err: unknown): Error {
  if (err instanceof PackageRejectedError) return err;
  return new PackageRejectedError(`the package is not a valid .tar.gz: ${(err as Error).message}`);
}

/** Reads every entry header of a .tar.gz and refuses unsafe ones (see the file comment). */
export async function verifyPackage(file: string, options: UnpackOptions = {}): Promise<PackageContents> {
  await checkGzipMagic(file);
  const checker = new EntryChecker(options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES);
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      reject(notTarGz(err));
    };
    const parser = new Parser({
      strict: true,
      maxDecompressionRatio: NO_RATIO_LIMIT,
      onReadEntry: (entry) => {
        try {
          checker.add(entry);
        } catch (err) {
          parser.abort(err as Error);
          return;
        }
        entry.resume();
      },
    });
    const input = createReadStream(file);
    input.on('error', fail);
    parser.on('error', fail);
    parser.on('end', () => {
      if (failed) return;
      try {
        checker.finish();
        resolve();
      } catch (err) {
        fail(err);
      }
    });
    input.pipe(parser as unknown as NodeJS.WritableStream);
  });
  return checker.contents;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Verifies `file`, then unpacks it into `destDir`, which must not exist yet (AlreadyExistsError;
 * the caller checks first, and one extraction per destination runs at a time). The files appear
 * under `destDir` all at once: they are written into a temp sibling that is renamed into place.
 */
export async function extractPackage(file: string, destDir: string, options: UnpackOptions = {}): Promise<PackageContents> {
  if (await exists(destDir)) throw new AlreadyExistsError(`cannot unpack the package into ${destDir}: it exists already`);
  const contents = await verifyPackage(file, options);
  await mkdir(dirname(destDir), { recursive: true });
  const temp = await mkdtemp(join(dirname(destDir), `.${basename(destDir)}.unpacking-`));
  try {
    // A second guard, should the file differ from what was verified: the same per-entry checks.
    const checker = new EntryChecker(options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES);
    let refused: Error | undefined;
    await extract({
      file, cwd: temp, strict: true, preservePaths: false, preserveOwner: false, unlink: false,
      maxDecompressionRatio: NO_RATIO_LIMIT,
      filter: (_path, entry) => {
        if (refused) return false;
        try {
          checker.add(entry as ReadEntry);
          return true;
        } catch (err) {
          refused = err as Error;
          return false;
        }
      },
    });
    if (refused) throw refused;
    checker.finish();
    await chmod(temp, 0o755);
    try {
      await rename(temp, destDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') throw new AlreadyExistsError(`cannot unpack the package into ${destDir}: it appeared while unpacking`);
      throw err;
    }
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  return contents;
}

/** The sha256 (hex) of a file, streamed. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
