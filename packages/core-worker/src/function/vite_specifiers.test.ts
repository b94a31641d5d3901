import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeRemote } from './describe.js';
import { isViteFsId, specifierForViteId } from './vite_specifiers.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const fsId = (...parts: string[]) => '/@fs' + join(ROOT, ...parts);

describe("Vite's resolved import specifiers", () => {
  it('a file a package exports gives its package specifier', () => {
    expect(specifierForViteId(fsId('node_modules/acorn/dist/acorn.mjs'))).toBe('acorn');
    expect(specifierForViteId(fsId('node_modules/acorn/dist/acorn.js'))).toBe('acorn');
    expect(specifierForViteId(fsId('node_modules/acorn/package.json'))).toBe('acorn/package.json');
    expect(specifierForViteId(fsId('node_modules/acorn/dist/acorn.mjs') + '?v=123')).toBe('acorn');
  });

  it("a workspace package inside another: the one the driver's directory has installed", () => {
    const project = mkdtempSync(join(tmpdir(), 'rayts-vite-'));
    try {
      mkdirSync(join(project, 'node_modules'));
      symlinkSync(ROOT, join(project, 'node_modules', 'rayts'));
      // `rayts` (the checkout's root, linked) exports its index.js; the API package inside it is @rayts/api.
      expect(specifierForViteId(fsId('index.js'), project)).toBe('rayts');
      expect(specifierForViteId(fsId('packages/api/dist/index.js'), project)).toBe('@rayts/api');
      expect(specifierForViteId(fsId('packages/api/dist/index.js'), ROOT)).toBe('@rayts/api'); // the repo's workspace link
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('a package without exports: its main, or any file by its path in the package', () => {
    expect(specifierForViteId(fsId('node_modules/abbrev/lib/index.js'))).toBe('abbrev');
    expect(specifierForViteId(fsId('node_modules/abbrev/package.json'))).toBe('abbrev/package.json');
  });

  it('a file no package exports stays an absolute path', () => {
    expect(specifierForViteId(fsId('node_modules/acorn/dist/bin.js'))).toBe(join(ROOT, 'node_modules/acorn/dist/bin.js'));
    expect(isViteFsId('node:os')).toBe(false);
  });

  it('a function from a Vitest test file ships the specifiers it was written with', () => {
    // what Vite makes of `async () => [await import('acorn'), await import('node:os'), await import('acorn/package.json')]`
    const viteSource =
      `async () => [await __vite_ssr_dynamic_import__(${JSON.stringify(fsId('node_modules/acorn/dist/acorn.mjs'))}), ` +
      `await __vite_ssr_dynamic_import__("node:os"), await __vite_ssr_dynamic_import__(${JSON.stringify(fsId('node_modules/acorn/package.json'))})]`;
    // eslint-disable-next-line no-eval
    const { source } = describeRemote((0, eval)(`(${viteSource})`) as Function);
    expect(source).toBe('async () => [await import("acorn"), await import("node:os"), await import("acorn/package.json")]');
  });
});
