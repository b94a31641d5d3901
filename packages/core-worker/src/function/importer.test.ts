import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeRemote } from './describe.js';
import { compileRemote } from './compile.js';
import { makeImporter } from './importer.js';
import { ModuleResolutionError } from '../errors.js';

let root: string; // holds node_modules
let jobDir: string; // a subdirectory: packages are found by walking up
const write = (path: string, text: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rayts-importer-'));
  jobDir = join(root, 'job');
  mkdirSync(jobDir);
  const nm = join(root, 'node_modules');
  // CommonJS package with main
  write(join(nm, 'fake-cjs/package.json'), JSON.stringify({ name: 'fake-cjs', main: 'lib/main.js' }));
  write(join(nm, 'fake-cjs/lib/main.js'), 'module.exports = { kind: "cjs", add: (a, b) => a + b };\n');
  // ESM-only package: exports has only an "import" condition (require.resolve cannot find it)
  write(join(nm, 'fake-esm/package.json'), JSON.stringify({ name: 'fake-esm', type: 'module', exports: { import: './index.mjs' } }));
  write(join(nm, 'fake-esm/index.mjs'), 'export const kind = "esm"; export default function hello(n) { return "hi " + n; }\n');
  // dual package: import must get the ESM build, as a module next to the job would
  write(join(nm, 'fake-dual/package.json'), JSON.stringify({
    name: 'fake-dual',
    exports: {
      '.': { require: './index.cjs', import: './index.mjs' },
      './feature/*': { import: './features/*.mjs' },
      './package.json': './package.json',
    },
  }));
  write(join(nm, 'fake-dual/index.cjs'), 'module.exports = { flavour: "cjs" };\n');
  write(join(nm, 'fake-dual/index.mjs'), 'export const flavour = "esm";\n');
  write(join(nm, 'fake-dual/features/fast.mjs'), 'export const speed = "fast";\n');
  // scoped package without main: index.js
  write(join(nm, '@scope/tool/package.json'), JSON.stringify({ name: '@scope/tool' }));
  write(join(nm, '@scope/tool/index.js'), 'exports.tool = "scoped";\n');
  write(join(nm, '@scope/tool/extra.js'), 'exports.extra = true;\n');
  // a job-local file and an alias target directory
  write(join(jobDir, 'local.mjs'), 'export const local = "job file";\n');
  write(join(root, 'api/index.mjs'), 'export const api = "root";\n');
  write(join(root, 'api/sub/thing.mjs'), 'export const api = "sub";\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('makeImporter', () => {
  it('imports node: builtins and bare builtins directly', async () => {
    const imp = makeImporter({ jobDir });
    expect(((await imp('node:os')) as typeof import('node:os')).platform()).toBe(process.platform);
    expect(imp.resolve('path')).toBe('node:path');
    expect(((await imp('path')) as typeof import('node:path')).sep).toBe('/');
    expect(imp.resolve('fs/promises')).toBe('node:fs/promises');
  });

  it('resolves aliases first: exact specifier and directory prefixes', async () => {
    const imp = makeImporter({
      jobDir,
      aliases: {
        rayts: pathToFileURL(join(root, 'api/index.mjs')).href,
        'rayts/': join(root, 'api') + '/',
        'fake-cjs': join(root, 'api/index.mjs'), // aliases win over installed packages
      },
    });
    expect(((await imp('rayts')) as { api: string }).api).toBe('root');
    expect(((await imp('rayts/sub/thing.mjs')) as { api: string }).api).toBe('sub');
    expect(((await imp('fake-cjs')) as { api: string }).api).toBe('root');
  });

  it("imports a CommonJS package from the job's node_modules (walking up from jobDir)", async () => {
    const mod = (await makeImporter({ jobDir })('fake-cjs')) as { default: { kind: string; add(a: number, b: number): number } };
    expect(mod.default.kind).toBe('cjs');
    expect(mod.default.add(2, 3)).toBe(5);
  });

  it('imports an ESM-only package whose exports only have an "import" condition', async () => {
    const mod = (await makeImporter({ jobDir })('fake-esm')) as { kind: string; default: (n: string) => string };
    expect(mod.kind).toBe('esm');
    expect(mod.default('there')).toBe('hi there');
  });

  it('picks the import condition of a dual package, and subpath patterns', async () => {
    const imp = makeImporter({ jobDir });
    expect(((await imp('fake-dual')) as { flavour: string }).flavour).toBe('esm');
    expect(((await imp('fake-dual/feature/fast')) as { speed: string }).speed).toBe('fast');
    await expect(imp('fake-dual/internal.js')).rejects.toThrow(/does not export '\.\/internal\.js'/);
  });

  it('imports scoped packages without main, and their subpaths', async () => {
    const imp = makeImporter({ jobDir });
    expect(((await imp('@scope/tool')) as { tool: string }).tool).toBe('scoped');
    expect(((await imp('@scope/tool/extra.js')) as { extra: boolean }).extra).toBe(true);
  });

  it('resolves relative specifiers against the job directory', async () => {
    const imp = makeImporter({ jobDir });
    expect(((await imp('./local.mjs')) as { local: string }).local).toBe('job file');
    expect(imp.resolve('../api/index.mjs')).toBe(pathToFileURL(join(root, 'api/index.mjs')).href);
  });

  it('a missing package names the package and the job directory', async () => {
    const imp = makeImporter({ jobDir });
    const err = await imp('no-such-pkg/sub').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModuleResolutionError);
    expect((err as Error).message).toContain("cannot import 'no-such-pkg/sub'");
    expect((err as Error).message).toContain("no package 'no-such-pkg'");
    expect((err as Error).message).toContain(jobDir);
    expect((err as ModuleResolutionError).specifier).toBe('no-such-pkg/sub');
    expect((err as ModuleResolutionError).jobDir).toBe(jobDir);
  });

  it('a missing relative file names the specifier and the job directory', async () => {
    const err = await makeImporter({ jobDir })('./missing.mjs').then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(ModuleResolutionError);
    expect(err!.message).toContain("cannot import './missing.mjs'");
    expect(err!.message).toContain(jobDir);
  });

  it('end to end: a shipped function imports a job package by bare name', async () => {
    const task = async (n: string) => {
      const { default: hello } = (await import('fake-esm' as string)) as { default: (n: string) => string };
      const cjs = (await import('fake-cjs' as string)) as { default: { add(a: number, b: number): number } };
      return `${hello(n)} ${cjs.default.add(1, 2)}`;
    };
    const f = compileRemote(describeRemote(task), { importer: makeImporter({ jobDir }) }) as typeof task;
    expect(await f('job')).toBe('hi job 3');
  });
});
