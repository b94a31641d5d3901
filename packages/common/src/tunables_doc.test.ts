/** docs/operations.md lists every tunable with its default and meaning, generated from config.ts. */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeTunables } from './config.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('the tunables table in docs/operations.md', () => {
  it('is current (scripts/gen-tunables-doc.mjs --check) and names every variable', () => {
    execFileSync(process.execPath, [join(root, 'scripts/gen-tunables-doc.mjs'), '--check'], { stdio: 'pipe' });
    const doc = readFileSync(join(root, 'docs/operations.md'), 'utf8');
    for (const t of describeTunables()) expect(doc).toContain(`| \`${t.env}\` |`);
  });
});
