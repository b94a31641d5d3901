#!/usr/bin/env node
// Copies better-sqlite3's build (made by its install script during `npm ci`) to
// packages/gcs/native/prebuilds/<platform>-<arch>/node.abi<N>.<libc>.node, the prebuilt binding a
// packed `rayts` carries: a user's `npm install` runs no install scripts and nodes have no
// compiler. The head loads it only where better-sqlite3's own build is absent
// (src/storage/sqlite_binding.ts). Run by the root `build`/`prepare` scripts.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const built = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
if (!existsSync(built)) {
  console.error(`prebuild-sqlite: ${built} is absent: better-sqlite3 was not built; run \`npm rebuild better-sqlite3\` (needs python3, make and g++)`);
  process.exit(1);
}
const libc = process.report?.getReport?.().header?.glibcVersionRuntime ? 'glibc' : 'musl';
const target = join(here, 'prebuilds', `${process.platform}-${process.arch}`, `node.abi${process.versions.modules}.${libc}.node`);
mkdirSync(dirname(target), { recursive: true });
copyFileSync(built, target);
