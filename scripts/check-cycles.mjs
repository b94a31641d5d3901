#!/usr/bin/env node
// Fails (exit 1) when the TypeScript sources under <root>/packages/*/src import each other in a
// cycle, type-only imports included; `npm test` runs it before the tests. Usage:
//   node scripts/check-cycles.mjs [root]      (root defaults to this repository)
// dpdm resolves `./x.js` specifiers to `./x.ts` through <root>/tsconfig.json.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(process.argv[2] ?? repo);
const dpdm = join(repo, 'node_modules', '.bin', 'dpdm');
const run = spawnSync(dpdm, [
  '--no-tree', '--no-warning', '--no-progress', '--exclude', '/(dist|node_modules|generated)/',
  '--exit-code', 'circular:1', 'packages/*/src/**/*.ts',
], { cwd: root, encoding: 'utf8' });
if (run.error) {
  console.error(`check-cycles: could not run dpdm (${run.error.message}); run \`npm ci\` first`);
  process.exit(2);
}
if (run.status === 0) {
  console.log('check-cycles: no import cycles among packages/*/src');
} else {
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  console.error('check-cycles: import cycles found (listed above); break them: move the shared piece into a module both sides import');
}
process.exit(run.status ?? 1);
