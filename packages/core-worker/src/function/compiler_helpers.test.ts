/**
 * Functions and classes as TypeScript runners compile them: test/fixtures/typescript/samples.ts goes
 * through the real esbuild (as tsx and vitest run it) and the real tsc for several targets, the output
 * is imported as a module, and each export is described, compiled back (with nothing but the shipped
 * source) and run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { transform } from 'esbuild';
import ts from 'typescript';
import { ClosureError, RemoteSourceError } from '../errors.js';
import { compileRemote } from './compile.js';
import { describeRemote } from './describe.js';
import { isKnownCompilerHelper, withCompilerHelpers } from './compiler_helpers.js';

const SAMPLES = fileURLToPath(new URL('../../../../test/fixtures/typescript/samples.ts', import.meta.url));
const source = readFileSync(SAMPLES, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'rayts-ts-runners-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Samples {
  Counter: new (start: number, step?: number) => { count: number; inc(by?: number): number; later(ms: number): Promise<number> };
  Vault: { new (secret: string): { reveal(): string; rotate(next: string): string }; holds(o: object): boolean };
  square: (x: number) => number;
  slowSum: (a: number, b: number) => Promise<number>;
  localClasses: (n: number) => number[];
  scale: (x: number) => number;
}

let counter = 0;
async function load(code: string): Promise<Samples> {
  const file = join(dir, `out${counter++}.mjs`);
  writeFileSync(file, code);
  return (await import(pathToFileURL(file).href)) as Samples;
}

/** What a worker gets: the value compiled from the shipped source alone. */
function ship<T>(value: T): T {
  return compileRemote(describeRemote(value as Function), { importer: (s) => import(s) }) as T;
}

function refusal(f: Function): ClosureError {
  try {
    describeRemote(f);
  } catch (err) {
    if (err instanceof ClosureError) return err;
    throw err;
  }
  throw new Error(`expected a ClosureError for ${f.name}`);
}

async function checkShipped(m: Samples, opts: { privateFields: boolean }): Promise<void> {
  const Counter = ship(m.Counter);
  const c = new Counter(10, 2);
  expect(c.inc()).toBe(12);
  expect(c.inc(5)).toBe(17);
  expect(await c.later(1)).toBe(17);
  expect(Counter.name).toBe('Counter');
  expect(ship(m.square)(7)).toBe(49);
  expect(await ship(m.slowSum)(1, 2)).toBe(4);
  expect(ship(m.localClasses)(4)).toEqual([5, 1, 8]);
  if (opts.privateFields) {
    const Vault = ship(m.Vault);
    const v = new Vault('a');
    expect(v.rotate('b')).toBe('a');
    expect(v.reveal()).toBe('b');
    expect(Vault.holds(v)).toBe(true);
    expect(Vault.holds({})).toBe(false);
  }
  const err = refusal(m.scale);
  expect(err.variables).toEqual(['factor']);
  expect(err.message).toContain("uses the outer variable 'factor'");
  expect(err.message).not.toContain('__name');
}

const ESBUILD_TARGETS = ['node20', 'es2022', 'es2019', 'es2017', 'es2015'];
describe('esbuild output (tsx, vitest)', () => {
  for (const target of ESBUILD_TARGETS) {
    it(`target ${target}, keepNames`, async () => {
      const { code } = await transform(source, {
        loader: 'ts', format: 'esm', target, keepNames: true,
        tsconfigRaw: { compilerOptions: { experimentalDecorators: true } },
      });
      expect(code).toContain('__name(');
      const m = await load(code);
      await checkShipped(m, { privateFields: true });
      // helpers travel only with the code that uses them
      expect(describeRemote(m.Counter).source).toContain('const __name =');
      expect(describeRemote(m.square).source).toContain('const __name =');
      if (target === 'es2017') expect(describeRemote(m.slowSum).source).toContain('const __spreadValues =');
      if (target === 'es2015') expect(describeRemote(m.slowSum).source).toContain('const __async =');
    });
  }

  it('without keepNames (vite), node20: sources without helpers are shipped as they are', async () => {
    const { code } = await transform(source, { loader: 'ts', format: 'esm', target: 'node20', tsconfigRaw: { compilerOptions: { experimentalDecorators: true } } });
    const m = await load(code);
    await checkShipped(m, { privateFields: true });
    expect(describeRemote(m.square).source).toBe(Function.prototype.toString.call(m.square));
  });
});

const TSC_TARGETS = ['ES2015', 'ES2017', 'ES2019', 'ES2022'] as const;
describe('tsc output', () => {
  for (const target of TSC_TARGETS) {
    it(`target ${target}`, async () => {
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { target: ts.ScriptTarget[target], module: ts.ModuleKind.ESNext, experimentalDecorators: true },
      });
      const m = await load(outputText);
      await checkShipped(m, { privateFields: true });
      if (target === 'ES2015') expect(describeRemote(m.slowSum).source).toContain('const __awaiter =');
      if (target === 'ES2017') expect(describeRemote(m.slowSum).source).toContain('const __rest =');
      if (target === 'ES2017') expect(describeRemote(m.slowSum).source).not.toContain('__awaiter');
      if (target === 'ES2015') expect(describeRemote(m.slowSum).source).toContain('const __rest =');
      if (target === 'ES2019') expect(describeRemote(m.Vault).source).toContain('const _Vault_secret = new WeakMap();');
      if (target === 'ES2022') expect(describeRemote(m.Vault).source).toBe(Function.prototype.toString.call(m.Vault));
    });
  }
});

describe('what cannot travel is still refused, naming it', () => {
  it('a private method lowered by tsc lives outside the class', async () => {
    const { outputText } = ts.transpileModule('export class P { #m() { return 1; } get v() { return this.#m(); } }', {
      compilerOptions: { target: ts.ScriptTarget.ES2019, module: ts.ModuleKind.ESNext },
    });
    const m = (await load(outputText)) as unknown as { P: Function };
    const err = refusal(m.P);
    expect(err.variables).toEqual(['_P_instances', '_P_m']);
    expect(err.message).toContain('look like helpers that a compiler inserted');
    expect(err.message).toContain('"target": "ES2022"');
  });

  it('a real outer variable next to helpers is named alone', async () => {
    const { code } = await transform('const base = 1; export class K { static { void 0; } v = base; m() { const f = () => 1; return f(); } }', {
      loader: 'ts', format: 'esm', target: 'node20', keepNames: true,
    });
    const m = (await load(code)) as unknown as { K: Function };
    const err = refusal(m.K);
    expect(err.variables).toEqual(['base']);
    expect(err.message).toContain("the remote class 'K' uses the outer variable 'base'");
  });
});

describe('static fields a compiler moved out of the class are refused, not lost', () => {
  const STATIC = 'export class Config { static label = "cfg"; static make() { return new Config(); } get v() { return Config.label; } }';
  const cases: Array<[string, () => Promise<string>]> = [
    ['tsc ES2019', async () => ts.transpileModule(STATIC, { compilerOptions: { target: ts.ScriptTarget.ES2019, module: ts.ModuleKind.ESNext } }).outputText],
    ['esbuild es2019', async () => (await transform(STATIC, { loader: 'ts', format: 'esm', target: 'es2019', keepNames: true })).code],
  ];
  for (const [what, compile] of cases) {
    it(what, async () => {
      const m = (await load(await compile())) as unknown as { Config: Function };
      expect(() => describeRemote(m.Config)).toThrow(RemoteSourceError);
      expect(() => describeRemote(m.Config)).toThrow(
        /the remote class 'Config' has the static property 'label', set outside the class: .*"target": "ES2022"/,
      );
    });
  }

  it('ES2022 output keeps them in the class, and they travel', async () => {
    const { code } = await transform(STATIC, { loader: 'ts', format: 'esm', target: 'es2022', keepNames: true });
    const m = (await load(code)) as unknown as { Config: { make(): { v: string } } };
    expect(ship(m.Config).make().v).toBe('cfg');
  });

  it('a property the program sets on a class after it is named too', () => {
    class Later {
      m() {
        return 1;
      }
    }
    (Later as unknown as { extra: number }).extra = 1;
    (Later.prototype as unknown as { added: () => number }).added = () => 2;
    expect(() => describeRemote(Later)).toThrow("has the static property 'extra' and prototype property 'added'");
  });

  it('properties a static block sets are the class\'s own', () => {
    class Registry {
      static {
        this.byName = new Map<string, number>();
        Registry.count = 0;
      }
      declare static byName: Map<string, number>;
      declare static count: number;
    }
    expect(ship(Registry).count).toBe(0);
  });
});

describe('the helpers', () => {
  it('only names compilers use are known', () => {
    for (const n of ['__name', '__publicField', '__awaiter', '__rest', '__classPrivateFieldGet', '__decorate', '__decorateClass', '__async']) {
      expect(isKnownCompilerHelper(n)).toBe(true);
    }
    for (const n of ['factor', '_a', '__proto__', 'tslib_1', '__dirname']) expect(isKnownCompilerHelper(n)).toBe(false);
  });

  it('are declared after the helpers they use, each once', () => {
    const wrapped = withCompilerHelpers('(x) => x', ['__publicField', '__name']);
    const order = [...wrapped.matchAll(/const (\w+) =/g)].map((m) => m[1]);
    expect(order).toEqual(['__defProp', '__name', '__defNormalProp', '__publicField']);
  });

  it('behave as the compilers\' own: __publicField defines, __rest leaves out, __awaiter awaits', async () => {
    // eslint-disable-next-line no-eval
    const [publicField, rest, awaiter] = (0, eval)(withCompilerHelpers('[__publicField, __rest, __awaiter]', ['__publicField', '__rest', '__awaiter'])) as [
      (o: object, k: unknown, v: unknown) => unknown,
      (s: object, e: Array<string | symbol>) => object,
      (t: unknown, a: unknown, p: unknown, g: () => Generator<unknown, number>) => Promise<number>,
    ];
    class WithSetter {
      set x(_v: number) {
        throw new Error('a field is defined, not assigned');
      }
    }
    const o = new WithSetter();
    publicField(o, 'x', 1);
    expect(Object.getOwnPropertyDescriptor(o, 'x')).toEqual({ value: 1, writable: true, enumerable: true, configurable: true });
    const sym = Symbol('s');
    expect(rest({ a: 1, b: 2, [sym]: 3 }, ['a'])).toEqual({ b: 2, [sym]: 3 });
    expect(
      await awaiter(undefined, undefined, undefined, function* () {
        const v = (yield Promise.resolve(20)) as number;
        return v + 1;
      }),
    ).toBe(21);
  });
});
