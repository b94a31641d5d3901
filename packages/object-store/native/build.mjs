#!/usr/bin/env node
// Builds the object store's N-API addon (native/build/Release/rayts_shm.node) with node-gyp and
// copies it to native/prebuilds/<platform>-<arch>/rayts_shm.napi.<libc>.node, the prebuilt that a
// packed `rayts` carries (node-gyp-build loads it where no build/ exists). Run from anywhere:
// `npm run build:native` at the repository root. `--force` rebuilds even when the build is newer
// than its sources.
//
// node-gyp: the repository's own (a root devDependency), else the one npm ships. It never downloads
// the Node headers here: it uses `npm_config_nodedir` (npm passes the `nodedir` setting of .npmrc
// to scripts) or, failing that, the headers installed next to this node binary
// (<prefix>/include/node), and says what is missing otherwise.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const built = join(here, 'build', 'Release', 'rayts_shm.node');
const libc = process.report?.getReport?.().header?.glibcVersionRuntime ? 'glibc' : 'musl';
const prebuilt = join(here, 'prebuilds', `${process.platform}-${process.arch}`, `rayts_shm.napi.${libc}.node`);

function nodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch { /* not a checkout with devDependencies: try npm's own */ }
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}

function upToDate() {
  if (process.argv.includes('--force') || !existsSync(built)) return false;
  const mtime = statSync(built).mtimeMs;
  return ['shm.c', 'binding.gyp'].every((f) => statSync(join(here, f)).mtimeMs <= mtime);
}

function copyPrebuilt() {
  mkdirSync(dirname(prebuilt), { recursive: true });
  copyFileSync(built, prebuilt);
}

if (upToDate()) {
  copyPrebuilt();
  process.exit(0);
}

const gyp = nodeGyp();
if (!gyp) {
  console.error('build:native: node-gyp not found (neither a devDependency here nor the one npm ships); install it with `npm install -g node-gyp`');
  process.exit(1);
}

const args = [gyp, 'rebuild', '--directory', here];
if (!process.argv.includes('--verbose')) args.push('--silent');
const fromEnv = process.env.npm_config_nodedir;
const prefix = dirname(dirname(process.execPath));
if (fromEnv) {
  args.push(`--nodedir=${fromEnv}`);
} else if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
} else {
  console.error(
    `build:native: no Node headers found (looked for ${join(prefix, 'include', 'node', 'node_api.h')}); ` +
      'install them (Debian/Ubuntu: the nodejs or libnode-dev package) or set nodedir in .npmrc',
  );
  process.exit(1);
}

const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build:native: node-gyp failed; it needs python3, make and a C compiler (g++/gcc) — see the output above');
  process.exit(r.status ?? 1);
}
copyPrebuilt();
