import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parse } from 'acorn';
import { RaytsError } from '@rayts/common';
import { PARSE_OPTIONS, describeRemote } from './describe.js';
import { ClosureError } from '../errors.js';
import { compileRemote } from './compile.js';
import { findFreeReferences, type EsNode } from './scope.js';
import { WORKER_GLOBALS, looksLikeCompilerHelper } from './globals.js';

// eslint-disable-next-line no-eval
const ev = (src: string): Function => (0, eval)(`(${src}\n)`) as Function;

/** Free names of an expression's source, before the worker-globals filter. */
function freeNames(src: string): string[] {
  const program = parse(`(${src}\n)`, PARSE_OPTIONS) as unknown as EsNode;
  return [...new Set(findFreeReferences(program).map((r) => r.name))];
}

function closureError(f: Function): ClosureError {
  try {
    describeRemote(f);
  } catch (err) {
    if (err instanceof ClosureError) return err;
    throw err;
  }
  throw new Error('expected a ClosureError');
}

describe('free variables: reported', () => {
  it('an outer const used by a function defined in this file', () => {
    const factor = 3;
    const scale = (x: number) => x * factor;
    const err = closureError(scale);
    expect(err).toBeInstanceOf(RaytsError);
    expect(err.name).toBe('ClosureError');
    expect(err.variables).toEqual(['factor']);
    expect(err.functionName).toBe('scale');
    expect(err.message).toBe(
      "the remote function 'scale' uses the outer variable 'factor': rayts ships functions by source to other processes, " +
        "so outer variables do not travel with it. Pass 'factor' as an argument, or define it inside the function " +
        "(imports: use `await import('…')` inside it).",
    );
  });

  it('an outer function, and several variables named together', () => {
    function helper(x: number) {
      return x + 1;
    }
    const offset = 1;
    const limit = 2;
    const f = (x: number) => helper(x) + offset + limit + helper(x);
    const err = closureError(f);
    expect(err.variables).toEqual(['helper', 'offset', 'limit']);
    expect(err.message).toContain("uses the outer variables 'helper', 'offset' and 'limit'");
    expect(err.message).toContain("Pass 'helper', 'offset' and 'limit' as arguments, or define them inside the function");
  });

  it('writes to outer variables and destructuring assignments count too', () => {
    expect(freeNames('() => { count++; total += 1; [a, b.c] = [1, 2]; ({ d, e: f } = {}); }')).toEqual([
      'count', 'total', 'a', 'b', 'd', 'f',
    ]);
  });

  it('references in defaults, computed keys, class heritage, templates, spreads and optional chains', () => {
    expect(freeNames('(x = dflt, { [key]: y } = {}) => `${tpl}` + [...spread] + obj?.p + (new Ctor())')).toEqual([
      'dflt', 'key', 'tpl', 'spread', 'obj', 'Ctor',
    ]);
    expect(freeNames('class A extends Base { [k] = v; static { s; } m() { return inner; } }')).toEqual([
      'Base', 'k', 'v', 's', 'inner',
    ]);
  });

  it('CommonJS variables are not available in a worker, and the message says so', () => {
    const f = ev('(p) => require("fs").readFileSync(__dirname + p) + module.id + exports.x + __filename');
    const err = closureError(f);
    expect(err.variables).toEqual(['require', '__dirname', 'module', 'exports', '__filename']);
    expect(err.message).toContain("'require' is a CommonJS module variable, which workers (ES modules) do not have");
    expect(err.message).toContain("use `await import('…')` inside the function instead of require()");
    expect(err.message).toContain("'__dirname' is a CommonJS module variable");
    for (const n of ['require', 'module', 'exports', '__dirname', '__filename']) expect(WORKER_GLOBALS.has(n)).toBe(false);
  });

  it('compiler helpers get a hint about the compile target', () => {
    // what tsc emits for an async arrow with "target": "ES2015"
    const f = ev('(x) => __awaiter(this, void 0, void 0, function* () { return (_a = x) !== null && _a !== void 0 ? _a : 0; })');
    const err = closureError(f);
    expect(err.variables).toEqual(['_a']); // __awaiter travels with it (compiler_helpers.ts), _a is tsc's module variable
    expect(err.message).toContain("'_a' looks like a helper that a compiler inserted");
    expect(err.message).toContain('"target": "ES2022"');
    expect(err.message).not.toContain('Pass'); // passing __awaiter as an argument is not the fix
    expect(looksLikeCompilerHelper('__generator')).toBe(true);
    expect(looksLikeCompilerHelper('_classCallCheck')).toBe(true);
    expect(looksLikeCompilerHelper('factor')).toBe(false);
    expect(looksLikeCompilerHelper('_private')).toBe(false);
  });

  it('a top-level import of this file (renamed by Vitest) is named by its imported name', () => {
    const f = (a: string) => join(a, 'b');
    const err = closureError(f);
    expect(err.message).toContain("'join' is imported at the top of the file");
    expect(err.message).toContain("use `await import('…')` inside the function");
  });

  it("'arguments' in a top-level arrow is the enclosing function's", () => {
    const err = closureError(ev('() => arguments[0]'));
    expect(err.variables).toEqual(['arguments']);
    expect(err.message).toContain('use a rest parameter');
    expect(freeNames('function f() { return () => arguments[0]; }')).toEqual([]);
  });

  it('a class names its outer variables with class wording', () => {
    const err = closureError(ev('class Svc { url = base + "/x"; }'));
    expect(err.message).toContain("the remote class 'Svc' uses the outer variable 'base'");
    expect(err.message).toContain('(to the constructor or a method), or define it inside the class');
  });
});

describe('free variables: not reported', () => {
  it('globals of a worker: Math, JSON, process, Buffer, fetch, setTimeout, URL, globalThis, undefined', () => {
    const f = ev(
      'async () => [Math.PI, JSON.stringify({}), process.pid, Buffer.from("a"), typeof fetch, setTimeout, new URL("http://x"), globalThis, undefined, structuredClone, new TextEncoder(), Symbol.iterator, new Map(), Promise]',
    );
    expect(describeRemote(f).kind).toBe('function');
  });

  const cases: Array<[string, string]> = [
    ['a parameter with the same name as an outer variable', '(factor) => factor * 2'],
    ['destructured parameters with defaults and rest', '({ a, b: [c, d = a], ...rest }, [e, , ...f] = [], g = e) => a + c + d + rest + e + f + g'],
    ['let in a block, used in the block', '() => { { let factor = 2; return factor; } }'],
    ['var hoisted out of a block and used before its declaration', '() => { x = 1; if (true) { var x; } return x; }'],
    ['function declarations are hoisted', '() => { return inner(); function inner() { return 1; } }'],
    ['class declarations inside', '() => { class Local { m() { return Local; } } return new Local(); }'],
    ['catch parameter, plain and destructured', '() => { try {} catch (err) { return err; } try {} catch ({ message }) { return message; } }'],
    ['named function expression recursion', 'function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }'],
    ['inner named function expression', '() => (function again(n) { return n ? again(n - 1) : 0; })(3)'],
    ['class name self-reference', 'class Node { static make() { return new Node(); } clone() { return new Node(); } }'],
    ['object keys', '() => ({ factor: 1, "other": 2, 3: 4, method() {}, get g() { return 1; } })'],
    ['member access', '(obj) => obj.factor + obj?.other.deep'],
    ['labels', '() => { outer: for (;;) { inner: for (;;) { break outer; } continue outer; } }'],
    ['for-in/for-of/for declarations', '(o) => { for (const k in o) k; for (let [a, b] of o) a + b; for (let i = 0; i < 1; i++) i; for (var v of o) v; return v; }'],
    ['this, arguments, new.target, super', 'class A extends Error { m() { return [this, arguments, super.message]; } constructor() { super(); new.target; } }'],
    ['import() and import.meta', 'async () => [await import("node:os"), import.meta]'],
    ['private names and #x in obj', 'class P { #x = 1; static has(o) { return #x in o; } get x() { return this.#x; } }'],
    ['switch-case declarations', '(x) => { switch (x) { case 1: let y = 2; return y; default: return y; } }'],
    ['arrow params shadowing in nested functions', '(a) => [1].map((b) => a + b)'],
  ];
  for (const [what, src] of cases) {
    it(what, () => {
      expect(freeNames(src).filter((n) => !WORKER_GLOBALS.has(n))).toEqual([]);
      if (!src.includes('import.meta')) expect(() => describeRemote(ev(src))).not.toThrow(); // eval: not a module
    });
  }

  it('the shadowing cases still run after shipping', () => {
    const f = compileRemote(describeRemote(ev('function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }')), {
      importer: (s) => import(s),
    }) as (n: number) => number;
    expect(f(5)).toBe(120);
  });

  it('a variable used outside the block that declared it is still free', () => {
    expect(freeNames('() => { { let x = 1; } return x; }')).toEqual(['x']);
    expect(freeNames('() => { try {} catch (e) {} return e; }')).toEqual(['e']);
    expect(freeNames('() => { for (let i = 0; i < 1; i++); return i; }')).toEqual(['i']);
    expect(freeNames('() => [(function named() {})(), named]')).toEqual(['named']);
  });
});
