/**
 * Packs a job's working_dir into a deterministic .tar.gz (Ray's working_dir upload): the same tree
 * gives the same bytes, hence the same sha256 and package URI, so a package the head already has
 * is never sent again. `.git` and `node_modules` are always left out (raylets run `npm ci`), as are
 * paths matched by `.gitignore` files (at every level, as git reads them) and by the runtime env's
 * `excludes`. Entries are sorted, with a fixed mtime, no owner, and git's modes (0644, or 0755 for
 * an executable file); relative symlinks that stay inside the directory are kept as symlinks.
 * Files are streamed: nothing is held in memory whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import ignore, { type Ignore } from 'ignore';
import { Header, Pax } from 'tar';
import { RuntimeEnvError } from '../errors.js';
import { symlinkProblem } from './archive_paths.js';
import { packageUri } from './package_uri.js';

export interface PackOptions {
  /** gitignore-style patterns relative to the directory (the runtime env's `excludes`). */
  excludes?: string[];
  /** Called with (0, total) once the tree is read, then after each regular file is written. */
  onProgress?: (filesDone: number, filesTotal: number) => void;
}

export interface PackedDir {
  /** The .tar.gz written (outFile). */
  file: string;
  /** sha256 (hex) of that file. */
  sha256: string;
  /** packageUri(sha256). */
  uri: string;
  /** Bytes of the archive. */
  size: number;
  /** Regular files packed. */
  fileCount: number;
  /** Their uncompressed bytes. */
  totalBytes: number;
  /**
   * The 5 folders holding the most bytes in files directly inside them (relative paths, '.' for
   * the files at the root), largest first: what to name when a package is over the head's limit.
   */
  largestFolders: { path: string; bytes: number }[];
}

/** Left out at every level, whatever the ignore files say. */
const ALWAYS_LEFT_OUT = new Set(['.git', 'node_modules']);
/** The mtime of every entry: a package's bytes must not depend on when its files were touched. */
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');
const LARGEST_FOLDERS = 5;
const BLOCK = 512;
/** Sizes from 8 GiB up do not fit the ustar header's octal field. */
const USTAR_MAX_SIZE = 8 ** 11;

type EntryKind = 'file' | 'dir' | 'symlink';

interface PackEntry {
  rel: string;
  abs: string;
  kind: EntryKind;
  mode: number;
  size: number;
  target?: string;
}

interface IgnoreLevel {
  /** The folder of the .gitignore, relative to the root ('' for the root). */
  base: string;
  rules: Ignore;
}

interface Tree {
  entries: PackEntry[];
  fileCount: number;
  totalBytes: number;
  folderBytes: Map<string, number>;
}

function newRules(): Ignore {
  return ignore({ ignorecase: false, allowRelativePaths: true });
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function describeFsError(err: unknown): string {
  switch (errCode(err)) {
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'ENOENT': return 'it disappeared while packing';
    default: return (err as Error).message;
  }
}

/** Git's precedence: the deepest .gitignore that says something about the path decides. */
function isIgnored(levels: readonly IgnoreLevel[], excludes: Ignore, rel: string, isDir: boolean): boolean {
  const suffix = isDir ? '/' : '';
  if (excludes.ignores(rel + suffix)) return true;
  let ignored = false;
  for (const { base, rules } of levels) {
    const result = rules.test((base === '' ? rel : rel.slice(base.length + 1)) + suffix);
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

class TreeReader {
  readonly tree: Tree = { entries: [], fileCount: 0, totalBytes: 0, folderBytes: new Map() };
  readonly links = new Map<string, string>();

  constructor(private readonly root: string, private readonly shown: string, private readonly excludes: Ignore, private readonly skipAbs: string) {}

  private unreadable(rel: string, err: unknown): RuntimeEnvError {
    return new RuntimeEnvError('working_dir', `cannot read '${join(this.shown, rel)}': ${describeFsError(err)}`,
      'fix its permissions, or leave it out of the package with a .gitignore entry or the runtime env\'s excludes');
  }

  private async ignoreLevel(absDir: string, relDir: string): Promise<IgnoreLevel | undefined> {
    let text: string;
    try {
      text = await readFile(join(absDir, '.gitignore'), 'utf8');
    } catch (err) {
      if (errCode(err) === 'ENOENT' || errCode(err) === 'EISDIR') return undefined;
      throw this.unreadable(relDir === '' ? '.gitignore' : `${relDir}/.gitignore`, err);
    }
    return { base: relDir, rules: newRules().add(text) };
  }

  async read(absDir: string, relDir: string, parentLevels: readonly IgnoreLevel[]): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(absDir)).sort();
    } catch (err) {
      throw this.unreadable(relDir, err);
    }
    const level = await this.ignoreLevel(absDir, relDir);
    const levels = level ? [...parentLevels, level] : parentLevels;
    for (const name of names) {
      if (ALWAYS_LEFT_OUT.has(name)) continue;
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const abs = join(absDir, name);
      if (abs === this.skipAbs) continue;
      let st;
      try {
        st = await lstat(abs);
      } catch (err) {
        throw this.unreadable(rel, err);
      }
      const kind: EntryKind | undefined = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : undefined;
      if (kind === undefined) continue; // sockets, fifos, devices
      if (isIgnored(levels, this.excludes, rel, kind === 'dir')) continue;
      if (kind === 'dir') {
        this.tree.entries.push({ rel, abs, kind, mode: 0o755, size: 0 });
        await this.read(abs, rel, levels);
      } else if (kind === 'symlink') {
        this.tree.entries.push({ rel, abs, kind, mode: 0o777, size: 0, target: await this.symlinkTarget(abs, rel) });
      } else {
        this.tree.entries.push({ rel, abs, kind, mode: st.mode & 0o100 ? 0o755 : 0o644, size: st.size });
        this.tree.fileCount += 1;
        this.tree.totalBytes += st.size;
        const folder = relDir === '' ? '.' : relDir;
        this.tree.folderBytes.set(folder, (this.tree.folderBytes.get(folder) ?? 0) + st.size);
      }
    }
  }

  private async symlinkTarget(abs: string, rel: string): Promise<string> {
    let target: string;
    try {
      target = await readlink(abs);
    } catch (err) {
      throw this.unreadable(rel, err);
    }
    if (isAbsolute(target)) throw this.badLink(rel, target, 'is an absolute path: it would not exist on the other nodes');
    this.links.set(rel, target);
    return target;
  }

  badLink(rel: string, target: string, problem: string): RuntimeEnvError {
    return new RuntimeEnvError('working_dir', `the symlink '${join(this.shown, rel)}' -> '${target}' ${problem}`,
      'make it a relative link to a file inside the directory, or leave it out with a .gitignore entry or the runtime env\'s excludes');
  }

  /** Every kept symlink must stay inside the root when followed, also through the other kept ones. */
  checkLinks(): void {
    for (const [rel, target] of this.links) {
      const problem = symlinkProblem(rel, target, this.links);
      if (problem) throw this.badLink(rel, target, problem === 'points outside the package' ? `points outside '${this.shown}'` : problem);
    }
  }
}

async function checkRoot(dir: string, root: string): Promise<void> {
  let st;
  try {
    st = await stat(root);
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') throw new RuntimeEnvError('working_dir', `'${dir}' does not exist`, 'give the path of the directory to ship (relative paths start at the current directory)');
    throw new RuntimeEnvError('working_dir', `'${dir}' cannot be read: ${describeFsError(err)}`);
  }
  if (!st.isDirectory()) throw new RuntimeEnvError('working_dir', `'${dir}' is not a directory`, 'working_dir is the directory the job runs in; pass the folder that holds your entrypoint');
}

function headerBlocks(e: PackEntry): Buffer {
  const path = e.kind === 'dir' ? `${e.rel}/` : e.rel;
  const header = new Header({
    path, mode: e.mode, uid: 0, gid: 0, uname: '', gname: '', size: e.size, mtime: FIXED_MTIME,
    type: e.kind === 'dir' ? 'Directory' : e.kind === 'symlink' ? 'SymbolicLink' : 'File', linkpath: e.target ?? '',
  });
  const needPax = header.encode();
  if (!needPax) return header.block!;
  const pax = new Pax({ path, linkpath: e.target, size: e.size >= USTAR_MAX_SIZE ? e.size : undefined, mtime: FIXED_MTIME });
  return Buffer.concat([pax.encode(), header.block!]);
}

async function* tarBlocks(entries: readonly PackEntry[], shown: string, onFile: () => void): AsyncGenerator<Buffer> {
  for (const e of entries) {
    yield headerBlocks(e);
    if (e.kind !== 'file') continue;
    let read = 0;
    if (e.size > 0) {
      try {
        for await (const chunk of createReadStream(e.abs, { start: 0, end: e.size - 1, highWaterMark: 256 * 1024 })) {
          read += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      } catch (err) {
        throw new RuntimeEnvError('working_dir', `cannot read '${join(shown, e.rel)}': ${describeFsError(err)}`,
          'fix its permissions, or leave it out of the package with a .gitignore entry or the runtime env\'s excludes');
      }
    }
    if (read !== e.size) throw new RuntimeEnvError('working_dir', `'${join(shown, e.rel)}' changed while it was packed (${e.size} bytes, then ${read})`, 'pack again once nothing writes to the directory');
    const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad);
    onFile();
  }
  yield Buffer.alloc(2 * BLOCK); // end of archive
}

function largestFolders(folderBytes: Map<string, number>): { path: string; bytes: number }[] {
  return [...folderBytes].map(([path, bytes]) => ({ path, bytes }))
    .sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1))
    .slice(0, LARGEST_FOLDERS);
}

/**
 * Packs `dir` into `outFile` (overwritten). RuntimeEnvError('working_dir') for a missing,
 * unreadable or empty directory, an unreadable file, or a symlink that is absolute or leads out.
 */
export async function packWorkingDir(dir: string, outFile: string, options: PackOptions = {}): Promise<PackedDir> {
  const root = resolve(dir);
  await checkRoot(dir, root);
  let excludes: Ignore;
  try {
    excludes = newRules().add(options.excludes ?? []);
  } catch (err) {
    throw new RuntimeEnvError('excludes', `is not a list of gitignore-style patterns: ${(err as Error).message}`);
  }
  const reader = new TreeReader(root, dir, excludes, resolve(outFile));
  await reader.read(root, '', []);
  reader.checkLinks();
  const { tree } = reader;
  if (tree.entries.length === 0) {
    throw new RuntimeEnvError('working_dir', `'${dir}' has nothing to pack: it is empty once .git, node_modules, .gitignore'd paths and excludes are left out`,
      'check the path and your .gitignore files');
  }

  let filesDone = 0;
  options.onProgress?.(0, tree.fileCount);
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      tarBlocks(tree.entries, dir, () => options.onProgress?.(++filesDone, tree.fileCount)),
      createGzip(),
      tap,
      createWriteStream(outFile, { mode: 0o600 }),
    );
  } catch (err) {
    await rm(outFile, { force: true });
    throw err;
  }
  const sha256 = hash.digest('hex');
  return {
    file: outFile, sha256, uri: packageUri(sha256), size,
    fileCount: tree.fileCount, totalBytes: tree.totalBytes, largestFolders: largestFolders(tree.folderBytes),
  };
}
