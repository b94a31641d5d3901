#!/usr/bin/env node
// Builds the installable package: `npm run pack [-- --out DIR]` writes DIR/rayts-<version>.tgz
// (default: the repository root) and prints its path.
//
// It is `npm pack` of the built checkout — the root `rayts` with its workspaces and everything they
// depend on bundled (bundleDependencies), so `npm install ./rayts-<version>.tgz` needs neither the
// registry nor a compiler — plus one change npm cannot make: the bundled better-sqlite3 keeps its
// sources but loses its install script (`prebuild-install || node-gyp rebuild`), which downloads a
// binary or compiles one and fails on a node without network or compiler. npm runs a bundled
// dependency's install scripts unconditionally, so the script has to go; its binding ships prebuilt
// in @rayts/gcs (native/prebuilds, chosen by src/storage/sqlite_binding.ts), and docs/operations.md ("Install")
// says how to build it from source for a Node version without a prebuilt.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tar from 'tar';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: root } } });
const outDir = resolve(values.out);

/** What the package must carry, checked before packing: the build's outputs (`npm ci` makes them). */
function checkBuilt() {
  const missing = [];
  for (const dir of readdirSync(join(root, 'packages'))) {
    if (!existsSync(join(root, 'packages', dir, 'dist', 'index.js'))) missing.push(`packages/${dir}/dist`);
  }
  for (const dir of ['packages/object-store/native/prebuilds', 'packages/gcs/native/prebuilds', 'packages/dashboard/web-dist']) {
    if (!existsSync(join(root, dir))) missing.push(dir);
  }
  if (missing.length > 0) {
    console.error(`pack: not built: ${missing.join(', ')}; run \`npm run build\` (or \`npm ci\`) first`);
    process.exit(1);
  }
}

/** Drops the install script (and node-gyp's implicit one) of a bundled package, saying why. */
function withoutInstallScript(manifestPath, why) {
  const pkg = JSON.parse(readFileSync(manifestPath, 'utf8'));
  delete pkg.scripts?.install;
  delete pkg.scripts?.preinstall;
  pkg.gypfile = false;
  pkg.raytsPackaging = why;
  writeFileSync(manifestPath, JSON.stringify(pkg, null, 2) + '\n');
}

/** The installed package's manifest: no build scripts (npm would list `prepare` as an install
 * script to review), no dev-only fields. */
function asInstalledManifest(manifestPath) {
  const pkg = JSON.parse(readFileSync(manifestPath, 'utf8'));
  for (const field of ['scripts', 'devDependencies', 'workspaces', 'overrides', 'allowScripts']) delete pkg[field];
  writeFileSync(manifestPath, JSON.stringify(pkg, null, 2) + '\n');
}

checkBuilt();
const work = mkdtempSync(join(tmpdir(), 'rayts-pack-'));
try {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024,
  }))[0];
  const stage = join(work, 'stage');
  mkdirSync(stage);
  await tar.x({ file: join(work, packed.filename), cwd: stage });
  const sqlite = join(stage, 'package', 'node_modules', 'better-sqlite3');
  withoutInstallScript(join(sqlite, 'package.json'),
    'install script removed by rayts: its binding ships prebuilt in @rayts/gcs (native/prebuilds)');
  // Whether npm bundles better-sqlite3's build/ (with its object files) depends on how this tree was
  // installed; the package carries the binding once, as @rayts/gcs's prebuilt.
  rmSync(join(sqlite, 'build'), { recursive: true, force: true });
  asInstalledManifest(join(stage, 'package', 'package.json'));
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, packed.filename);
  await tar.c({ gzip: true, file: out, cwd: stage, portable: true, mtime: new Date('1985-10-26T08:15:00Z') }, ['package']);
  console.log(out);
} finally {
  rmSync(work, { recursive: true, force: true });
}
