import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeRemote, hashRemoteSource } from './describe.js';
import type { RemoteFunctionDescriptor } from './descriptor.js';
import { RemoteSourceError } from '../errors.js';
import { compileRemote, compileStats, rewriteImports, type Importer } from './compile.js';
import { makeImporter } from './importer.js';

// eslint-disable-next-line no-eval
const ev = <T = Function>(src: string): T => (0, eval)(`(${src}\n)`) as T;
const source = (kind: 'function' | 'class', name: string, src: string): RemoteFunctionDescriptor => ({
  kind, name, source: src, hash: hashRemoteSource(kind, src),
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rayts-compile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compileRemote', () => {
  it('routes every import() through the importer, nested and with odd spacing', async () => {
    const seen: string[] = [];
    const importer: Importer = async (s) => {
      seen.push(s);
      return { value: s.length };
    };
    const f = compileRemote(
      source('function', 'f', 'async (a) => (await import(a)).value + (await import  (/*c*/ "bb")).value + (await import((await import("c")).value + "")).value'),
      { importer },
    ) as (a: string) => Promise<number>;
    expect(await f('xyz')).toBe(3 + 2 + 1);
    expect(seen).toEqual(['xyz', 'bb', 'c', '1']);
  });

  it('keeps everything but the import keyword byte-identical, and leaves non-import text alone', () => {
    const src = 'async () => { const s = "import(x)"; /* import() */ return import ( s ) }';
    const { code, importName } = rewriteImports(src);
    expect(code).toBe(src.replace('import ( s )', `${importName} ( s )`));
    expect(rewriteImports('(x) => x.import + 1').code).toBe('(x) => x.import + 1');
  });

  it('picks a hidden name that the source does not use', () => {
    const { importName } = rewriteImports('() => { const __rayts_import = 1; return import("a"); }');
    expect(importName).not.toBe('__rayts_import');
    expect(rewriteImports('() => import("a")').importName).toBe('__rayts_import');
  });

  it('import.meta becomes the given object (default: its rayts URL)', () => {
    const metaUrl = () => import.meta.url; // written here: Vite renamed import.meta, describeRemote puts it back
    const d = describeRemote(metaUrl);
    expect(d.source).toContain('import.meta.url');
    expect((compileRemote(d, { importer: (s) => import(s) }) as () => string)()).toBe('rayts://function/metaUrl');
    const g = compileRemote(source('function', 'g', '() => import.meta.dirname'), {
      importer: (s) => import(s),
      importMeta: { dirname: '/job' },
    }) as () => string;
    expect(g()).toBe('/job');
  });

  it("import('node:os') works through a job importer", async () => {
    const f = ev<() => Promise<string>>("async () => { const os = await import('node:os'); return os.platform(); }");
    const g = compileRemote(describeRemote(f), { importer: makeImporter({ jobDir: dir }) }) as typeof f;
    expect(await g()).toBe(process.platform);
  });

  it("import('rayts') uses the alias", async () => {
    const fake = join(dir, 'fake-rayts.mjs');
    writeFileSync(fake, 'export const whoami = "fake rayts"; export function get(x) { return x * 2; }\n');
    const importer = makeImporter({ jobDir: dir, aliases: { rayts: pathToFileURL(fake).href } });
    const task = ev<(x: number) => Promise<string>>("async (x) => { const ray = await import('rayts'); return ray.whoami + ' ' + ray.get(x); }");
    const f = compileRemote(describeRemote(task), { importer }) as typeof task;
    expect(await f(21)).toBe('fake rayts 42');
  });

  it('a function written in a Vitest test file (import() rewritten by Vite) imports through the importer', async () => {
    const task = async (x: number) => {
      const os = await import('node:os');
      return `${os.EOL.length}:${x}`;
    };
    const d = describeRemote(task);
    expect(d.source).not.toContain('__vite_ssr_dynamic_import__');
    const seen: string[] = [];
    const f = compileRemote(d, { importer: async (s) => (seen.push(s), import(s)) }) as typeof task;
    expect(await f(1)).toBe(`${'\n'.length}:1`);
    expect(seen).toEqual(['node:os']);
  });

  it('is strict mode', () => {
    const f = compileRemote(source('function', 's', 'function () { return this; }'), { importer: (s) => import(s) }) as () => unknown;
    expect(f()).toBeUndefined();
    const g = compileRemote(source('function', 'w', '() => { undeclared = 1; }'), { importer: (s) => import(s) }) as () => void;
    expect(() => g()).toThrow(ReferenceError);
  });

  it('stack traces name the function by its rayts sourceURL', () => {
    const boom = ev<() => never>('function boom() {\n  throw new Error("kaboom");\n}');
    const f = compileRemote(describeRemote(boom), { importer: (s) => import(s) }) as () => never;
    let stack = '';
    try {
      f();
    } catch (err) {
      stack = (err as Error).stack ?? '';
    }
    expect(stack).toContain('kaboom');
    expect(stack).toMatch(/at boom \(rayts:\/\/function\/boom:\d+:\d+\)/);
  });

  it('compiles each hash once per importer', () => {
    const importer: Importer = (s) => import(s);
    const d = describeRemote(ev('(x) => x + 100'));
    const before = compileStats.compiles;
    const a = compileRemote(d, { importer });
    const b = compileRemote({ ...d }, { importer });
    expect(a).toBe(b);
    expect(compileStats.compiles).toBe(before + 1);
    const other = compileRemote(d, { importer: (s) => import(s) });
    expect(other).not.toBe(a); // another importer: its own compiled copy
    expect(compileStats.compiles).toBe(before + 2);
  });

  it('does not re-evaluate the source on a cache hit', () => {
    const spy = vi.fn();
    (globalThis as Record<string, unknown>).__raytsCompileProbe = spy;
    try {
      const d = source('function', 'probe', '(globalThis.__raytsCompileProbe(), () => 1)');
      const importer: Importer = (s) => import(s);
      compileRemote(d, { importer });
      compileRemote(d, { importer });
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      delete (globalThis as Record<string, unknown>).__raytsCompileProbe;
    }
  });

  it('refuses a source that does not match its hash, or is not a function', () => {
    const d = describeRemote(ev('() => 1'));
    expect(() => compileRemote({ ...d, source: '() => 2' }, { importer: (s) => import(s) })).toThrow(/does not match its hash/);
    expect(() => compileRemote(source('function', 'n', '42'), { importer: (s) => import(s) })).toThrow(RemoteSourceError);
  });
});
