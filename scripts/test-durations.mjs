#!/usr/bin/env node
// Writes test/durations.json (seconds per test file, what test/sequencer.ts orders by)
// from the test-results.json of a full `npm test`.   node scripts/test-durations.mjs [results.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = JSON.parse(readFileSync(process.argv[2] ?? join(root, 'test-results.json'), 'utf8'));
const out = {};
for (const file of results.testResults) {
  // The json reporter names no project: a file that runs in both (on-node and via-client) gets the longer.
  const path = relative(root, file.name);
  out[path] = Math.max(out[path] ?? 0, Math.round((file.endTime - file.startTime) / 100) / 10);
}
const sorted = Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
writeFileSync(join(root, 'test/durations.json'), `${JSON.stringify(sorted, null, 1)}\n`);
console.log(`test/durations.json: ${Object.keys(sorted).length} files`);
