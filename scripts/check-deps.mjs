#!/usr/bin/env node
// Every workspace declares what it imports: each bare specifier in a package's sources (static and
// dynamic imports, `import.meta.resolve`, type-only imports too, since the published .d.ts files
// carry them) must name a package listed in that package's `dependencies`. Test files may also use
// the package's and the root's devDependencies. A packed `rayts` installs only what is declared,
// so an undeclared import works in the repository (hoisting) and fails for a user.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const builtins = new Set(builtinModules);
const ts = createRequire(import.meta.url)('typescript');
const META_RESOLVE = /\b(?:import\.meta\.resolve|require(?:\.resolve)?)\(\s*['"]([^'"]+)['"]/g;
/** Resolved at run time, not imported, and declaring them would make a cycle: why each is allowed. */
const RUNTIME_PEERS = {
  '@rayts/core-worker': { '@rayts/api': "the module task code gets for import('rayts'); @rayts/api depends on core-worker" },
  '@rayts/api': { '@rayts/cli': 'ray.init() with no cluster runs `rayts start --head`; @rayts/cli depends on api' },
};

/** Bare specifiers of one source file: static, dynamic and type imports (TypeScript's scanner, so
 * comments and strings do not count), plus import.meta.resolve('…') and require('…') / require.resolve('…'). */
function specifiers(text) {
  const info = ts.preProcessFile(text, true, true);
  const found = info.importedFiles.map((f) => f.fileName);
  for (const m of text.matchAll(META_RESOLVE)) found.push(m[1]);
  return found.filter((s) => !s.startsWith('.') && !s.startsWith('/'));
}

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every import of a workspace whose package its package.json does not declare, as messages. */
export function undeclaredImports() {
  const problems = [];
  for (const dir of readdirSync(join(root, 'packages'))) {
    const pkgDir = join(root, 'packages', dir);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    const deps = new Set(Object.keys(pkg.dependencies ?? {}));
    const devDeps = new Set([...Object.keys(pkg.devDependencies ?? {}), ...Object.keys(rootPkg.devDependencies ?? {})]);
    for (const file of sources(join(pkgDir, 'src'))) {
      const isTest = /\.test(_helper)?\.tsx?$/.test(file);
      for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
        if (specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const name = packageName(specifier);
        // Task code shipped to workers imports the API as 'rayts', which every worker provides.
        if (name === 'rayts' || name === pkg.name || RUNTIME_PEERS[pkg.name]?.[name]) continue;
        if (deps.has(name) || (isTest && devDeps.has(name))) continue;
        // Tests also import made-up packages they write into a temp node_modules at run time.
        if (isTest && !existsSync(join(root, 'node_modules', name))) continue;
        problems.push(`${relative(root, file)}: imports '${specifier}' but ${pkg.name} does not list ${name} in its dependencies`);
      }
    }
  }
  return problems;
}

/** Workspaces with a node_modules of their own: `npm pack` bundles only the root's tree, so a
 * package nested there would be missing from an installed rayts (run `npm dedupe`). */
export function nestedWorkspaceModules() {
  const nested = [];
  for (const dir of readdirSync(join(root, 'packages'))) {
    const nm = join(root, 'packages', dir, 'node_modules');
    if (!existsSync(nm)) continue;
    for (const name of readdirSync(nm).filter((n) => !n.startsWith('.'))) {
      const names = name.startsWith('@') ? readdirSync(join(nm, name)).map((n) => `${name}/${n}`) : [name];
      nested.push(...names.map((n) => `packages/${dir}/node_modules/${n}`));
    }
  }
  return nested;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = undeclaredImports();
  const nested = nestedWorkspaceModules();
  if (nested.length > 0) {
    problems.push(...nested.map((n) => `${n}: a workspace's own node_modules is not bundled by npm pack; run \`npm dedupe\``));
  }
  if (problems.length > 0) {
    console.error(`check-deps: ${problems.length} problem(s):\n  ${problems.join('\n  ')}\n` +
      'add each import to the "dependencies" of the package that imports it (npm install -w packages/<pkg> <name>)');
    process.exit(1);
  }
  console.log('check-deps: every workspace declares what it imports, and nothing is nested');
}
