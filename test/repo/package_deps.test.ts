// Every workspace package declares in its package.json each package its sources import (static,
// dynamic and type imports, import.meta.resolve, require), so that a packed `rayts` — which bundles
// the workspaces and what they declare — installs everything that runs; and no workspace keeps a
// node_modules of its own, which `npm pack` would leave out. The checks live in
// scripts/check-deps.mjs (also `npm run check:deps`).
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { nestedWorkspaceModules, undeclaredImports } from '../../scripts/check-deps.mjs';

describe('workspace package dependencies', () => {
  it('every workspace declares what it imports', () => {
    expect(undeclaredImports() as string[]).toEqual([]);
  });

  it('no workspace has packages nested in its own node_modules (npm dedupe)', () => {
    expect(nestedWorkspaceModules() as string[]).toEqual([]);
  });
});
