/**
 * The rules an entry of a working_dir package must follow, shared by the packer (which must never
 * write an archive the head would refuse) and the checker (which refuses anything else): relative,
 * normalized paths, and symlinks that stay inside the package's root even when followed through
 * the package's other symlinks.
 */

/** Symlinks followed while resolving one target, as Linux's MAXSYMLINKS. */
const MAX_LINK_HOPS = 40;

/**
 * What is wrong with an entry path (`a/b/c`, a directory may end with one `/`), or undefined when it
 * is a normalized relative path.
 */
export function entryPathProblem(path: string): string | undefined {
  if (path === '') return 'the path is empty';
  if (path.includes('\0')) return 'the path contains a NUL character';
  if (path.startsWith('/')) return 'the path is absolute';
  const parts = (path.endsWith('/') ? path.slice(0, -1) : path).split('/');
  if (parts.includes('..')) return "the path has a '..' segment";
  if (parts.some((p) => p === '' || p === '.')) return "the path is not normalized (empty or '.' segments)";
  return undefined;
}

/** The path of an entry without a directory's trailing slash: the key entries are compared by. */
export function entryKey(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

type Resolved = { parts: string[] } | { problem: string };

function walk(start: string[], target: string, links: ReadonlyMap<string, string>, hops: number): Resolved {
  if (target.startsWith('/')) return { problem: 'is absolute' };
  let parts = [...start];
  for (const comp of target.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp === '..') {
      if (parts.length === 0) return { problem: 'points outside the package' };
      parts.pop();
      continue;
    }
    parts.push(comp);
    const next = links.get(parts.join('/'));
    if (next === undefined) continue;
    if (hops >= MAX_LINK_HOPS) return { problem: 'goes through too many symlinks (a loop?)' };
    parts.pop();
    const inner = walk(parts, next, links, hops + 1);
    if ('problem' in inner) return inner;
    parts = inner.parts;
  }
  return { parts };
}

/**
 * What is wrong with the symlink at `linkPath` pointing to `target`, given every symlink of the
 * package (path → target): absolute, or leading out of the package's root when followed (also
 * through other symlinks), or a loop. Undefined when it stays inside; a target that does not exist
 * is fine (it stays dangling inside the root).
 */
export function symlinkProblem(linkPath: string, target: string, links: ReadonlyMap<string, string>): string | undefined {
  if (target === '') return 'has an empty target';
  const dir = entryKey(linkPath).split('/').slice(0, -1);
  const resolved = walk(dir, target, links, 0);
  return 'problem' in resolved ? resolved.problem : undefined;
}

/** The nearest proper ancestor of `path` that is a symlink of the package, if any. */
export function symlinkAncestor(path: string, links: ReadonlyMap<string, string>): string | undefined {
  const parts = entryKey(path).split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (links.has(prefix)) return prefix;
  }
  return undefined;
}
