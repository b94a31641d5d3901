// The import-cycle gate that `npm test` runs first (scripts/check-cycles.mjs): it fails on a tree
// with a deliberate cycle, type-only imports included, and passes on this repository.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..', '..');
const check = (root?: string) => spawnSync(process.execPath, [join(repo, 'scripts', 'check-cycles.mjs'), ...(root ? [root] : [])], { encoding: 'utf8' });

describe('import cycle gate', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('fails on a deliberately introduced cycle and names its files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rayts-cycle-'));
    dirs.push(dir);
    cpSync(join(repo, 'test', 'fixtures', 'import_cycle'), dir, { recursive: true });
    const run = check(dir);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/ping\.ts/);
    expect(run.stdout).toMatch(/pong\.ts/);
    expect(run.stderr).toMatch(/import cycles found/);
  });

  it('passes on this repository', () => {
    const run = check();
    expect(run.stdout + run.stderr).toMatch(/no import cycles/);
    expect(run.status).toBe(0);
  });
});
