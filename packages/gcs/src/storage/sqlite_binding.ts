/**
 * Which compiled better-sqlite3 the head loads. In a checkout, `npm ci` builds better-sqlite3 from
 * source (its install script). An installed `rayts` package runs no install scripts (npm 11 blocks
 * them by default, and nodes have no compiler), so it carries a prebuilt binding per Node ABI under
 * native/prebuilds/<platform>-<arch>/node.abi<N>.<libc>.node (node-gyp-build's naming), copied from
 * the build at pack time. better-sqlite3's own build wins when it loads; else the prebuilt one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteBindingError } from '../errors.js';

const require = createRequire(import.meta.url);

/** packages/gcs/native: src/storage and dist/storage both sit two levels below the package. */
export const GCS_NATIVE_DIR = fileURLToPath(new URL('../../native/', import.meta.url));

/** better-sqlite3's own build, where `npm ci` (or `npm rebuild better-sqlite3`) puts it. */
export function ownSqliteBuild(): { packageDir: string; addon: string } {
  const packageDir = dirname(require.resolve('better-sqlite3/package.json'));
  return { packageDir, addon: join(packageDir, 'build', 'Release', 'better_sqlite3.node') };
}

function defaultSources(): SqliteBindingSources {
  const own = ownSqliteBuild();
  return { ownAddon: own.addon, packageDir: own.packageDir, prebuiltDir: GCS_NATIVE_DIR };
}

interface GypBuildLoader { resolve(dir: string): string }

export interface SqliteBindingSources {
  /** better-sqlite3's own build (may be absent). */
  ownAddon: string;
  /** better-sqlite3's package directory, for the message on how to build it. */
  packageDir: string;
  /** The directory holding prebuilds/ (node-gyp-build layout). */
  prebuiltDir: string;
}

let cached: string | undefined;

/** The path of the addon that loads here, for `new Database(path, { nativeBinding })`. Throws
 * SqliteBindingError with what to do when none loads. */
export function sqliteNativeBinding(sources?: SqliteBindingSources): string {
  if (cached && !sources) return cached;
  const from = sources ?? defaultSources();
  const failures: string[] = [];
  const candidates: string[] = [];
  if (existsSync(from.ownAddon)) candidates.push(from.ownAddon);
  try {
    candidates.push((require('node-gyp-build') as GypBuildLoader).resolve(from.prebuiltDir));
  } catch {
    failures.push(`no prebuilt for ${process.platform}-${process.arch} Node ABI ${process.versions.modules} ` +
      `(prebuilt: ${prebuiltList(from.prebuiltDir) || 'none'})`);
  }
  for (const path of candidates) {
    try {
      require(path);
      if (!sources) cached = path;
      return path;
    } catch (err) {
      failures.push(`${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!existsSync(from.ownAddon)) failures.unshift(`better-sqlite3 was not built (${from.ownAddon} is absent)`);
  throw new SqliteBindingError(
    `the head cannot load SQLite (better-sqlite3) in Node ${process.version}: ${failures.join('; ')}`,
    `build it once on this machine: cd ${from.packageDir} && npx node-gyp rebuild --release ` +
      '(needs python3, make and g++; node-gyp fetches the Node headers unless given --nodedir), or use a Node version rayts carries a prebuilt for',
  );
}

function prebuiltList(dir: string): string {
  const root = join(dir, 'prebuilds');
  if (!existsSync(root)) return '';
  return readdirSync(root).flatMap((tuple) => readdirSync(join(root, tuple)).map((f) => `${tuple}/${f}`)).join(', ');
}
