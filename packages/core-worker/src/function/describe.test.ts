import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { RaytsError } from '@rayts/common';
import { describeRemote, describeStats, hashRemoteSource } from './describe.js';
import { ClosureError, RemoteSourceError } from '../errors.js';
import { compileRemote, type Importer } from './compile.js';

/** A function with exactly this source text (test-file functions are reformatted by Vitest). */
// eslint-disable-next-line no-eval
const ev = <T = Function>(src: string): T => (0, eval)(`(${src}\n)`) as T;
const importer: Importer = (s) => import(s);
const roundTrip = <T extends Function>(f: T): T => compileRemote(describeRemote(f), { importer }) as unknown as T;

async function drain(gen: AsyncIterable<unknown> | Iterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const v of gen as AsyncIterable<unknown>) out.push(v);
  return out;
}

describe('describeRemote: function forms round-trip', () => {
  it('arrow functions: expression body, block body, single bare param, async', async () => {
    expect(roundTrip(ev<(x: number) => number>('(x) => x * x'))(4)).toBe(16);
    expect(roundTrip(ev<(x: number) => number>('x => { const y = x + 1; return y * 2; }'))(2)).toBe(6);
    expect(await roundTrip(ev<(x: number) => Promise<number>>('async x => x + 1'))(1)).toBe(2);
    expect(await roundTrip(ev<(x: number, ...r: number[]) => Promise<number>>('async (x, ...r) => x + r.length'))(1, 2, 3)).toBe(3);
  });

  it('function expressions and declarations, named and anonymous, async', async () => {
    const decl = ev('function add(a, b) { return a + b; }');
    const d = describeRemote(decl);
    expect(d).toMatchObject({ kind: 'function', name: 'add', source: 'function add(a, b) { return a + b; }' });
    expect((compileRemote(d, { importer }) as Function)(2, 3)).toBe(5);
    expect(roundTrip(ev<() => number>('function () { return 7; }'))()).toBe(7);
    expect(await roundTrip(ev<(x: number) => Promise<number>>('async function twice(x) { await null; return 2 * x; }'))(4)).toBe(8);
  });

  it('generator and async generator functions', async () => {
    const gen = roundTrip(ev<(n: number) => Generator<number>>('function* count(n) { for (let i = 0; i < n; i++) yield i; }'));
    expect([...gen(3)]).toEqual([0, 1, 2]);
    const agen = roundTrip(ev<(n: number) => AsyncGenerator<number>>('async function* tick(n) { while (n) yield n--; }'));
    expect(await drain(agen(2))).toEqual([2, 1]);
  });

  it('method shorthand becomes an expression, keeping name and method semantics', () => {
    const m = ev<{ scale(x: number): number }>('{ scale(x) { return x * 3; } }').scale;
    expect(Function.prototype.toString.call(m)).toBe('scale(x) { return x * 3; }');
    const d = describeRemote(m);
    expect(d.name).toBe('scale');
    expect(d.source).toContain('scale(x) { return x * 3; }');
    const f = compileRemote(d, { importer }) as (x: number) => number;
    expect(f(2)).toBe(6);
    expect(f.name).toBe('scale');
    expect(() => new (f as unknown as new () => unknown)()).toThrow(TypeError); // methods are not constructors
  });

  it('async, generator and async generator methods, and keyword-named methods', async () => {
    const o = ev<Record<string, (...a: number[]) => unknown>>(
      '{ async load(x) { return x + 1; }, *pairs(n) { yield n; yield n; }, async *stream() { yield 1; }, async() { return "a"; }, get2() { return 2; } }',
    );
    expect(await roundTrip(o.load)(1)).toBe(2);
    expect([...(roundTrip(o.pairs)(5) as Iterable<number>)]).toEqual([5, 5]);
    expect(await drain(roundTrip(o.stream)() as AsyncIterable<number>)).toEqual([1]);
    expect(roundTrip(o.async)()).toBe('a'); // 'async() {…}' is not an expression on its own
    expect(roundTrip(o.get2)()).toBe(2);
  });

  it('static methods, string-keyed, computed-keyed methods and getters', () => {
    const C = ev<{ make(x: number): number }>('class { static make(x) { return x * 10; } }');
    expect(roundTrip(C.make)(2)).toBe(20);
    const s = ev<Record<string, () => number>>("{ 'two words'() { return 2; } }")['two words'];
    expect(roundTrip(s)()).toBe(2);
    const it = ev<{ [Symbol.iterator]: () => number }>('{ [Symbol.iterator]() { return 3; } }')[Symbol.iterator];
    expect(roundTrip(it)()).toBe(3);
    const getter = Object.getOwnPropertyDescriptor(ev('{ get answer() { return 42; } }'), 'answer')!.get!;
    expect(roundTrip(getter)()).toBe(42);
  });

  it('methods may use super (object literal home object)', () => {
    const m = ev<{ str(): string }>('{ str() { return typeof super.hasOwnProperty; } }').str;
    expect(roundTrip(m)()).toBe('function');
  });

  it('functions defined in this (Vitest-transformed) file round-trip, including their names', async () => {
    const square = (x: number) => x * x;
    const f = roundTrip(square);
    expect(f(5)).toBe(25);
    expect(f.name).toBe('square'); // an arrow evaluated on its own is anonymous; the name is restored
    async function withAwait(x: number) {
      await new Promise((r) => setTimeout(r, 1));
      return x + 1;
    }
    expect(await roundTrip(withAwait)(1)).toBe(2);
  });
});

describe('describeRemote: classes', () => {
  it('fields, private fields and methods, static members, getters and setters', () => {
    class Counter {
      static created = 0;
      static label() {
        return 'counter';
      }
      value = 10;
      #hidden = 5;
      #bump() {
        return ++this.#hidden;
      }
      constructor(start?: number) {
        if (start !== undefined) this.value = start;
        Counter.created++;
      }
      increment() {
        return ++this.value;
      }
      get secret() {
        return this.#bump();
      }
      set secret(v: number) {
        this.#hidden = v;
      }
      static #count = 0;
      static { Counter.#count = 1; }
      static get count() {
        return Counter.#count;
      }
    }
    const d = describeRemote(Counter);
    expect(d.kind).toBe('class');
    expect(d.name).toBe('Counter');
    const C = compileRemote(d, { importer }) as typeof Counter;
    expect(C).not.toBe(Counter);
    const c = new C();
    expect(c.increment()).toBe(11);
    expect(c.secret).toBe(6);
    c.secret = 100;
    expect(c.secret).toBe(101);
    expect(new C(3).value).toBe(3);
    expect(C.created).toBe(2);
    expect(C.label()).toBe('counter');
    expect(C.count).toBe(1);
  });

  it('a class that extends a global (Error) works, including instanceof and name', () => {
    class QuotaError extends Error {
      override name = 'QuotaError';
      constructor(readonly used: number) {
        super(`quota used: ${used}`);
      }
    }
    const Q = compileRemote(describeRemote(QuotaError), { importer }) as typeof QuotaError;
    const e = new Q(3);
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(Q);
    expect(e.message).toBe('quota used: 3');
    expect(e.used).toBe(3);
    expect(e.name).toBe('QuotaError');
  });

  it('an anonymous class expression and an old-style constructor function as a class', () => {
    const Anon = ev<new () => { x: number }>('class { x = 1 }');
    expect(new (roundTrip(Anon))().x).toBe(1);
    const Old = ev<new (v: number) => { v: number }>('function Point(v) { this.v = v; }');
    const d = describeRemote(Old, 'class');
    expect(d.kind).toBe('class');
    expect(new (compileRemote(d, { importer }) as typeof Old)(4).v).toBe(4);
  });

  it('a class overriding static toString is still shipped by its real source', () => {
    const C = ev<new () => { v: number }>('class Sneaky { static toString() { return "nope"; } v = 2 }');
    expect(new (roundTrip(C))().v).toBe(2);
  });

  it('refuses kind mismatches with a clear message', () => {
    expect(() => describeRemote(ev('class A {}'), 'function')).toThrow(/is a class.*kind 'class'/);
    expect(() => describeRemote(ev('() => 1'), 'class')).toThrow(/cannot be constructed/);
  });
});

describe('describeRemote: refusals, hashing, caching', () => {
  it('refuses native and bound functions', () => {
    expect(() => describeRemote(Math.max)).toThrow(RemoteSourceError);
    expect(() => describeRemote(Math.max)).toThrow(/cannot ship a native or bound function/);
    const bound = ev<(x: number) => number>('(x) => x').bind(null);
    expect(() => describeRemote(bound)).toThrow(/cannot ship a native or bound function/);
    expect(() => describeRemote(new Proxy(() => 1, {}))).toThrow(/cannot ship a native or bound function/);
    try {
      describeRemote(Math.max);
    } catch (err) {
      expect(err).toBeInstanceOf(RaytsError);
    }
  });

  it('hash is sha256 of kind and source; same source gives the same hash, different kind a different one', () => {
    const a = describeRemote(ev('function P(v) { this.v = v; }'));
    const b = describeRemote(ev('function P(v) { this.v = v; }'));
    const c = describeRemote(ev('function P(v) { this.v = v; }'), 'class');
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).toBe(createHash('sha256').update(`function\n${a.source}`).digest('hex'));
    expect(a.hash).toBe(hashRemoteSource('function', a.source));
    expect(c.hash).not.toBe(a.hash);
  });

  it('parses each function object once, however often it is described', () => {
    const f = ev('(x) => x + 1');
    const before = describeStats.parses;
    const first = describeRemote(f);
    const afterFirst = describeStats.parses;
    expect(afterFirst).toBeGreaterThan(before);
    for (let i = 0; i < 100; i++) expect(describeRemote(f)).toEqual(first);
    expect(describeStats.parses).toBe(afterFirst);
    // a closure error is also remembered: no re-parse on the second attempt
    const bad = ev('(x) => x * factor');
    expect(() => describeRemote(bad)).toThrow(ClosureError);
    const afterBad = describeStats.parses;
    expect(() => describeRemote(bad)).toThrow(ClosureError);
    expect(describeStats.parses).toBe(afterBad);
  });

  it('rejects non-functions', () => {
    expect(() => describeRemote(42 as unknown as Function)).toThrow(RemoteSourceError);
  });
});
