/**
 * How `import(x)` inside shipped code finds modules: aliases first (so `import('rayts')` reaches the
 * worker's own rayts), then Node builtins, then the job's working directory (its node_modules, and
 * relative paths), the way `import()` in a module placed in that directory would.
 *
 * Node 20 has no stable API to resolve an ESM specifier against an arbitrary parent, so bare
 * specifiers are resolved here: walk up from the job directory through node_modules, honour the
 * package's `exports` with the conditions ESM `import` uses (node, import, default), else its
 * `main`; anything this misses falls back to CommonJS resolution (`createRequire`), which also
 * covers NODE_PATH.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, isAbsolute, join, resolve as resolvePath, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModuleResolutionError } from '../errors.js';
import type { Importer } from './compile.js';


export interface ImporterOptions {
  /** The job's working directory: bare and relative specifiers resolve from here. */
  jobDir: string;
  /**
   * Specifier → module, checked first. Keys are exact specifiers (`'rayts'`), or prefixes when they
   * end in '/' (`'rayts/': 'file:///…/dist/'` maps 'rayts/x.js' to 'file:///…/dist/x.js'), as in
   * import maps. Values are URLs or paths (relative paths resolve against jobDir).
   */
  aliases?: Readonly<Record<string, string>>;
}

/** An {@link Importer} that can also tell where a specifier resolves without loading it. */
export interface JobImporter extends Importer {
  /** The URL (or `node:` specifier) `specifier` loads from. Throws {@link ModuleResolutionError}. */
  resolve(specifier: string): string;
  readonly jobDir: string;
}

/** The conditions Node's ESM loader matches in `exports` for `import`. */
const CONDITIONS = ['node', 'import', 'default'];

const URL_LIKE = /^[a-zA-Z][a-zA-Z\d+.-]*:/;

export function makeImporter(options: ImporterOptions): JobImporter {
  const jobDir = resolvePath(options.jobDir);
  const aliases = Object.entries(options.aliases ?? {}).map(([key, value]) => [key, toURL(value, jobDir)] as const);
  const resolved = new Map<string, string>();

  const fail = (specifier: string, why: string): never => {
    throw new ModuleResolutionError(`cannot import '${specifier}' in remote code: ${why}`, specifier, jobDir);
  };

  const resolve = (specifier: string): string => {
    const known = resolved.get(specifier);
    if (known) return known;
    const url = resolveUncached(specifier);
    resolved.set(specifier, url);
    return url;
  };

  const resolveUncached = (specifier: string): string => {
    if (typeof specifier !== 'string' || specifier === '') fail(String(specifier), 'the specifier must be a non-empty string');
    // 1. aliases: exact, then the longest matching prefix
    for (const [key, target] of aliases) if (key === specifier) return target;
    let best: readonly [string, string] | undefined;
    for (const entry of aliases) {
      if (entry[0].endsWith('/') && specifier.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
    }
    if (best) return new URL(specifier.slice(best[0].length), best[1]).href;
    // 2. builtins
    if (specifier.startsWith('node:')) return specifier;
    if (isBuiltin(specifier)) return `node:${specifier}`;
    // 3. URLs, absolute and relative paths
    if (URL_LIKE.test(specifier) && !isAbsolute(specifier)) return specifier;
    if (isAbsolute(specifier)) return pathToFileURL(specifier).href;
    if (specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..') {
      return pathToFileURL(resolvePath(jobDir, specifier)).href;
    }
    // 4. packages in the job's node_modules
    const file = resolvePackage(specifier, jobDir, fail);
    if (file) return pathToFileURL(file).href;
    try {
      return pathToFileURL(createRequire(join(jobDir, 'noop.js')).resolve(specifier)).href;
    } catch {
      return fail(
        specifier,
        `no package '${packageName(specifier)}' is installed in node_modules of the job directory ${jobDir} or its parents ` +
          `(run npm install there, or ship the job with its node_modules)`,
      );
    }
  };

  const importer = async (specifier: string): Promise<unknown> => {
    const url = resolve(specifier);
    try {
      return await import(url);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_DIR_IMPORT') {
        fail(specifier, `${url} was not found (bare and relative specifiers resolve against the job directory ${jobDir}): ${(err as Error).message}`);
      }
      throw err;
    }
  };
  return Object.assign(importer, { resolve, jobDir });
}

function toURL(value: string, jobDir: string): string {
  if (URL_LIKE.test(value) && !isAbsolute(value)) return value;
  const path = resolvePath(jobDir, value);
  const url = pathToFileURL(path).href;
  return value.endsWith('/') || value.endsWith(sep) ? `${url.replace(/\/$/, '')}/` : url;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * The file `import(specifier)` loads when `specifier` names a package found under node_modules of
 * `fromDir` or a parent; null when no such package directory exists (or the target is not there).
 */
function resolvePackage(specifier: string, fromDir: string, fail: (s: string, why: string) => never): string | null {
  const name = packageName(specifier);
  if (!name || name.startsWith('.') || (specifier.startsWith('@') && !name.includes('/'))) return null;
  const subpath = '.' + specifier.slice(name.length); // '.' or './rest'
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    if (existsSync(pkgDir)) {
      const pkg = readJson(join(pkgDir, 'package.json'));
      if (pkg && pkg.exports !== undefined && pkg.exports !== null) {
        const target = resolveExports(pkg.exports, subpath);
        if (target === null) fail(specifier, `package '${name}' (${pkgDir}) does not export '${subpath}' for import`);
        const file = join(pkgDir, target);
        if (!isFile(file)) fail(specifier, `package '${name}' exports '${subpath}' as ${target}, which does not exist in ${pkgDir}`);
        return file;
      }
      if (subpath === '.') {
        const main = typeof pkg?.main === 'string' ? pkg.main : undefined;
        const module = typeof pkg?.module === 'string' ? pkg.module : undefined;
        const candidates = [
          ...(main ? [main, `${main}.js`, `${main}.mjs`, `${main}.cjs`, `${main}.json`, join(main, 'index.js')] : []),
          'index.js',
          ...(module ? [module] : []),
          'index.mjs',
        ];
        for (const c of candidates) if (isFile(join(pkgDir, c))) return join(pkgDir, c);
        return null; // let CommonJS resolution have a go
      }
      const file = join(pkgDir, subpath);
      if (isFile(file)) return file;
      return null;
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The package-relative target ('./x.js') of `subpath` in an `exports` field, or null. */
function resolveExports(exports: unknown, subpath: string): string | null {
  const isSubpathMap =
    typeof exports === 'object' && exports !== null && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'));
  const map: Record<string, unknown> = isSubpathMap ? (exports as Record<string, unknown>) : { '.': exports };
  if (Object.prototype.hasOwnProperty.call(map, subpath) && !subpath.includes('*')) return resolveTarget(map[subpath], undefined);
  // subpath patterns: './features/*.js' — the longest matching prefix wins
  let bestKey: string | undefined;
  let bestStar = '';
  for (const key of Object.keys(map)) {
    const star = key.indexOf('*');
    if (star < 0 || key.indexOf('*', star + 1) >= 0) continue;
    const prefix = key.slice(0, star);
    const suffix = key.slice(star + 1);
    if (subpath.length >= key.length && subpath.startsWith(prefix) && subpath.endsWith(suffix)) {
      if (!bestKey || prefix.length > bestKey.indexOf('*')) {
        bestKey = key;
        bestStar = subpath.slice(prefix.length, subpath.length - suffix.length);
      }
    }
  }
  return bestKey === undefined ? null : resolveTarget(map[bestKey], bestStar);
}

function resolveTarget(target: unknown, star: string | undefined): string | null {
  if (typeof target === 'string') {
    if (!target.startsWith('./')) return null;
    return star === undefined ? target : target.replaceAll('*', star);
  }
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = resolveTarget(t, star);
      if (r !== null) return r;
    }
    return null;
  }
  if (typeof target === 'object' && target !== null) {
    for (const [condition, value] of Object.entries(target)) {
      if (!CONDITIONS.includes(condition)) continue;
      const r = resolveTarget(value, star);
      if (r !== null) return r;
    }
  }
  return null;
}
