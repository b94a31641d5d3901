import { describe, it, expect } from 'vitest';
import { encodeToBuffer, encodeValue, type EncodeOptions } from './index.js';
import { SerializationError } from '../errors.js';

class Ref {
  constructor(readonly id: string) {}
}

/** The SerializationError encodeValue throws for `value` (fails the test if it throws nothing). */
function failure(value: unknown, options?: EncodeOptions): SerializationError {
  try {
    encodeValue(value, options);
  } catch (err) {
    expect(err).toBeInstanceOf(SerializationError);
    expect((err as Error).name).toBe('SerializationError'); // never a bare DataCloneError
    return err as SerializationError;
  }
  throw new Error('encodeValue did not throw');
}

describe('non-serializable values', () => {
  it('names a function and its path inside the value', () => {
    const err = failure({ handler: () => 1 }, { path: 'result' });
    expect(err.message).toBe('cannot serialize a function at result.handler');
    expect(err.hint).toMatch(/data/);
    expect(failure({ a: [{ b: 1 }, { 'odd key': function named() {} }] }).message).toBe(
      'cannot serialize a function at value.a[1]["odd key"]',
    );
    expect(failure(() => 1, { path: 'argument 0' }).message).toBe('cannot serialize a function at argument 0');
    expect(failure({ k: class Foo {} }).message).toBe('cannot serialize a class at value.k');
  });

  it('names a symbol, as a value and boxed', () => {
    expect(failure({ tag: Symbol('x') }).message).toBe('cannot serialize a symbol at value.tag');
    expect(failure(Symbol.iterator).message).toBe('cannot serialize a symbol at value');
    expect(failure([Object(Symbol('boxed'))]).message).toBe('cannot serialize a symbol at value[0]');
  });

  it('names a class instance holding a method-valued own property', () => {
    class Job {
      name = 'job';
      run = (): void => {};
    }
    expect(failure({ jobs: [new Job()] }).message).toBe('cannot serialize a function at value.jobs[0].run');
  });

  it('names a Promise, WeakMap, WeakSet, WeakRef, generator, iterator, SharedArrayBuffer', () => {
    expect(failure({ p: Promise.resolve(1) }).message).toBe('cannot serialize a Promise at value.p');
    expect(failure({ p: Promise.resolve(1) }).hint).toMatch(/await/);
    expect(failure({ w: new WeakMap() }).message).toBe('cannot serialize a WeakMap at value.w');
    expect(failure(new Set([new WeakSet()])).message).toBe('cannot serialize a WeakSet at value<item #0>');
    expect(failure({ r: new WeakRef({}) }).message).toBe('cannot serialize a WeakRef at value.r');
    function* gen(): Generator<number> {
      yield 1;
    }
    expect(failure({ g: gen() }).message).toBe('cannot serialize a generator at value.g');
    expect(failure({ it: new Map().keys() }).message).toBe('cannot serialize an iterator at value.it');
    expect(failure({ it: [1, 2][Symbol.iterator]() }).message).toBe('cannot serialize an iterator at value.it');
    expect(failure({ sab: new SharedArrayBuffer(8) }).message).toBe('cannot serialize a SharedArrayBuffer at value.sab');
  });

  it('gives paths through Map keys and values, Sets, Error fields and built-ins it has no name for', () => {
    const map = new Map<unknown, unknown>([
      ['ok', 1],
      ['cb', () => 0],
    ]);
    expect(failure({ map }).message).toBe('cannot serialize a function at value.map.get("cb")');
    expect(failure(new Map([[() => 0, 1]])).message).toBe('cannot serialize a function at value<key #0>');
    const err = Object.assign(new Error('x'), { retry: () => 0 });
    expect(failure({ err }).message).toBe('cannot serialize a function at value.err.retry');
    expect(failure({ fmt: new Intl.NumberFormat() }).message).toBe('cannot serialize a NumberFormat object at value.fmt');
  });

  it('diagnoses values that also hold refs, and does not look inside refs', () => {
    const isRef = (v: object): string | undefined => (v instanceof Ref ? v.id : undefined);
    // a ref may itself hold functions (a handle on its owner): it is a leaf, not a failure
    const ref = Object.assign(new Ref('r'), { owner: { release: () => {} } });
    expect(encodeValue({ ref }, { isRef }).refs).toEqual(['r']);
    expect(failure({ ref, bad: { fn: () => 0 } }, { isRef, path: 'args' }).message).toBe(
      'cannot serialize a function at args.bad.fn',
    );
    expect(failure({ ref, p: Promise.resolve() }, { isRef }).message).toBe('cannot serialize a Promise at value.p');
  });

  it('throws SerializationError from encodeToBuffer as well', () => {
    expect(() => encodeToBuffer({ f: () => 0 })).toThrow(SerializationError);
    expect(() => encodeToBuffer({ f: () => 0 })).toThrow('cannot serialize a function at value.f');
  });

  it('lets an exception from a getter through as it is', () => {
    const boom = new Error('getter failed');
    const value = {
      get bad(): never {
        throw boom;
      },
    };
    expect(() => encodeValue(value)).toThrow(boom);
  });
});
