/**
 * Vite (and so Vitest) resolves the specifier of each `import('pkg')` it can see to a path of its own
 * dev server, `/@fs/<absolute path of the file>`, before the code runs: a remote function defined in
 * a Vitest test file has lost the name it imported. Workers resolve specifiers against the job's
 * directory, possibly on another machine, so we give the package specifier back: the package that
 * holds the file, and the entry (its `exports`, `module` or `main`) that is that file.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const FS_PREFIX = '/@fs/';

export function isViteFsId(specifier: string): boolean {
  return specifier.startsWith(FS_PREFIX);
}

interface PackageJson {
  name?: string;
  exports?: unknown;
  main?: string;
  module?: string;
}

/** Every string target of an `exports` value (conditions in any order, arrays). */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(targets);
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

/** The subpath map of an `exports` field: `{ '.': …, './sub': … }`. */
function subpaths(exports: unknown): Array<[string, unknown]> {
  if (exports && typeof exports === 'object' && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'))) {
    return Object.entries(exports);
  }
  return [['.', exports]];
}

/** The subpath of the package (`.`, `./sub`) whose target is `rel` (`./dist/x.js`), if any. */
function exportedAs(exports: unknown, rel: string): string | undefined {
  for (const [key, value] of subpaths(exports)) {
    for (const target of targets(value)) {
      const star = target.indexOf('*');
      if (star < 0) {
        if (resolve('/', target) === resolve('/', rel)) return key;
      } else if (key.includes('*')) {
        const [before, after] = [target.slice(0, star), target.slice(star + 1)];
        if (rel.startsWith(before) && rel.endsWith(after) && rel.length >= before.length + after.length) {
          return key.replace('*', rel.slice(before.length, rel.length - after.length));
        }
      }
    }
  }
  return undefined;
}

/** The directory `node_modules/<name>` leads to from `fromDir` (as Node's resolution walks up), if any. */
function installedAt(name: string, fromDir: string): string | undefined {
  for (let dir = resolve(fromDir); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(candidate)) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The specifier a user wrote for the file Vite calls `viteId` (`/@fs/…/node_modules/acorn/dist/acorn.mjs`
 * → `acorn`), or the file's absolute path when no package exports it. Of the packages around the file
 * (a workspace package inside another, as `rayts` holds `@rayts/api`), the one `fromDir` (the driver's
 * directory) has installed wins, then the innermost.
 */
export function specifierForViteId(viteId: string, fromDir: string = process.cwd()): string {
  const file = viteId.slice(FS_PREFIX.length - 1).replace(/[?#].*$/, '');
  const found: Array<{ specifier: string; dir: string; name: string }> = [];
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    const pkg = readManifest(join(dir, 'package.json'));
    if (!pkg?.name) continue;
    const rel = './' + relative(dir, file).split(sep).join('/');
    const sub =
      pkg.exports !== undefined
        ? exportedAs(pkg.exports, rel)
        : [pkg.module, pkg.main ?? 'index.js'].some((m) => m !== undefined && resolve(dir, m) === file)
          ? '.'
          : rel;
    if (sub !== undefined) found.push({ specifier: sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`, dir, name: pkg.name });
  }
  const installed = found.find((f) => installedAt(f.name, fromDir) === realpathOrSelf(f.dir));
  return (installed ?? found[0])?.specifier ?? file;
}

function readManifest(path: string): PackageJson | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

function realpathOrSelf(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}
