// Every workspace package declares in its package.json each package its sources import (its
// @rayts/* siblings with their version, grpc-js, …), so that it installs and builds on its own.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..', '..');
const packagesDir = join(repo, 'packages');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : sources(path);
    return name.endsWith('.ts') && !/\.(test|test_helper|d)\.ts$/.test(name) ? [path] : [];
  });
}

/** Package names of the static imports in one file (node: builtins left out; `import()` inside shipped task code is not the package's). */
function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = new Set<string>();
  // `import … from 'x'` over one or more lines (no quote or semicolon before `from`), and `import 'x'`.
  const re = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = (m[1] ?? m[2])!;
    if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
  }
  return [...found];
}

describe('workspace package dependencies', () => {
  for (const name of readdirSync(packagesDir)) {
    const manifest = join(packagesDir, name, 'package.json');
    it(`@rayts/${name} declares what it imports`, () => {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; dependencies?: Record<string, string> };
      const declared = new Set(Object.keys(pkg.dependencies ?? {}));
      const missing = new Set<string>();
      for (const file of sources(join(packagesDir, name, 'src'))) {
        for (const dep of importedPackages(file)) if (dep !== pkg.name && !declared.has(dep)) missing.add(`${dep} (${file.slice(repo.length + 1)})`);
      }
      expect([...missing]).toEqual([]);
    });
  }
});
