#!/usr/bin/env node
// Builds the object store's N-API addon (native/build/Release/rayts_shm.node) with node-gyp.
// Run from anywhere: `npm run build:native` at the repository root.
//
// node-gyp needs the Node headers. It never downloads them here: it uses `npm_config_nodedir`
// (npm passes the `nodedir` setting of .npmrc to scripts) or, failing that, the headers installed
// next to this node binary (<prefix>/include/node), and says what is missing otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  console.error('build:native: node-gyp is not installed; run `npm ci` (it is a devDependency of the root package)');
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
