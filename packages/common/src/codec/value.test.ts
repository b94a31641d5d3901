import { describe, it, expect, vi } from 'vitest';
import {
  decodeFromBuffer,
  decodeValue,
  encodeToBuffer,
  encodeValue,
  encodedSize,
  readEncoded,
  readRefs,
  writeEncoded,
  type DecodeOptions,
  type EncodeOptions,
} from './index.js';
import { SerializationError } from '../errors.js';

class Ref {
  constructor(readonly id: string) {}
}
const refOptions: EncodeOptions & DecodeOptions = {
  isRef: (v) => (v instanceof Ref ? v.id : undefined),
  reviveRef: (id) => new Ref(id),
};

/** Every way a value can travel: in memory, through a block, through one Buffer. */
function roundTrips<T>(value: T, options: EncodeOptions & DecodeOptions = refOptions): T[] {
  const e = encodeValue(value, options);
  const block = new Uint8Array(encodedSize(e));
  writeEncoded(e, block);
  return [
    decodeValue<T>(e, options),
    readEncoded<T>(block, options),
    decodeFromBuffer<T>(encodeToBuffer(value, options), options),
  ];
}

describe('round trips', () => {
  it('keeps primitives, including the ones JSON cannot carry', () => {
    const values = [
      'ok',
      '',
      'héllo wörld ✓ 𝄞',
      '\ud800 lone surrogate',
      0,
      -0,
      1.5,
      Number.MAX_VALUE,
      NaN,
      Infinity,
      -Infinity,
      2 ** 60,
      true,
      false,
      null,
      undefined,
      10n,
      -(2n ** 100n),
    ];
    for (const v of values) {
      for (const out of roundTrips(v)) expect(Object.is(out, v), `${String(v)}`).toBe(true);
    }
  });

  it('keeps nested plain data, sparse arrays and undefined fields', () => {
    const sparse = [1, , 3];
    const value = { a: 1, b: 'x', c: [1, 2, { d: [true, null] }], u: undefined, s: sparse, big: 1n, neg: -0 };
    for (const out of roundTrips(value)) {
      expect(out).toEqual(value);
      expect('u' in out).toBe(true);
      expect(1 in out.s).toBe(false);
      expect(Object.is(out.neg, -0)).toBe(true);
    }
  });

  it('keeps cycles and shared identity', () => {
    const shared = { n: 1 };
    const value: Record<string, unknown> = { a: shared, b: shared, list: [shared] };
    value.self = value;
    for (const out of roundTrips(value) as Record<string, any>[]) {
      expect(out.self).toBe(out);
      expect(out.a).toBe(out.b);
      expect(out.list[0]).toBe(out.a);
      expect(out.a).toEqual({ n: 1 });
    }
  });

  it('keeps Map with object keys, Set, Date, RegExp, BigInt and boxed primitives', () => {
    const key = { k: 1 };
    const map = new Map<unknown, unknown>([
      [key, 'object key'],
      ['s', new Set([1, 'two', key])],
      [3n, new Date(1_700_000_000_123)],
    ]);
    const value = { map, re: /a+b/giu, boxed: [Object(1), Object('s'), Object(false)] };
    for (const out of roundTrips(value)) {
      const keys = [...out.map.keys()];
      expect(keys[0]).toEqual({ k: 1 });
      expect(out.map.get(keys[0])).toBe('object key');
      const set = out.map.get('s') as Set<unknown>;
      expect(set).toBeInstanceOf(Set);
      expect(set.has(keys[0])).toBe(true); // same object as the Map key, as in the input
      expect(out.map.get(3n)).toEqual(new Date(1_700_000_000_123));
      expect(out.re).toBeInstanceOf(RegExp);
      expect(out.re.source).toBe('a+b');
      expect(out.re.flags).toBe('giu');
      expect(out.boxed.map((b: object) => b.valueOf())).toEqual([1, 's', false]);
    }
  });

  it('keeps Error subclasses: name, message, stack, built-in type, cause and custom fields', () => {
    class QuotaError extends Error {
      code = 'E_QUOTA';
      constructor(message: string, options?: ErrorOptions) {
        super(message, options);
        this.name = 'QuotaError';
      }
    }
    class Inherited extends RangeError {
      override get name(): string {
        return 'Inherited';
      }
    }
    const cause = new TypeError('root cause');
    const err = new QuotaError('over quota', { cause });
    const inherited = new Inherited('out of range');
    const agg = new AggregateError([new Error('one'), inherited], 'many');
    for (const [out, outInherited, outAgg] of roundTrips([err, inherited, agg])) {
      expect(out).toBeInstanceOf(Error);
      expect(out.name).toBe('QuotaError');
      expect(out.message).toBe('over quota');
      expect(out.stack).toBe(err.stack);
      expect((out as QuotaError).code).toBe('E_QUOTA');
      expect(out.cause).toBeInstanceOf(TypeError);
      expect((out.cause as Error).message).toBe('root cause');
      expect((out.cause as Error).stack).toBe(cause.stack);
      expect(outInherited).toBeInstanceOf(RangeError);
      expect(outInherited.name).toBe('Inherited');
      expect(outInherited.stack).toBe(inherited.stack);
      expect(outAgg).toBeInstanceOf(AggregateError);
      expect((outAgg as AggregateError).errors.map((e: Error) => e.message)).toEqual(['one', 'out of range']);
      expect(Object.keys(out)).toEqual(Object.keys(err));
    }
  });

  it('keeps an Error that refers to itself', () => {
    const err = new Error('loop') as Error & { self?: unknown; ctx?: unknown };
    err.self = err;
    err.ctx = { err };
    for (const out of roundTrips({ err }) as { err: typeof err }[]) {
      expect(out.err.self).toBe(out.err);
      expect((out.err.ctx as { err: unknown }).err).toBe(out.err);
    }
  });

  it('flattens class instances to their own fields, as v8 does', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      norm(): number {
        return Math.hypot(this.x, this.y);
      }
    }
    for (const out of roundTrips({ p: new Point(3, 4) })) expect(out.p).toEqual({ x: 3, y: 4 });
  });
});

describe('binary payloads', () => {
  const kinds = [
    Uint8Array,
    Int8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
  ] as const;

  it('keeps every typed array class and its values, inline and out of band', () => {
    for (const Kind of kinds) {
      for (const length of [3, 4096]) {
        const a = new (Kind as any)(length);
        for (let i = 0; i < length; i++) a[i] = Kind.name.startsWith('Big') ? BigInt(i) : (i * 7) % 100;
        const e = encodeValue(a);
        expect(e.buffers.length, `${Kind.name}(${length})`).toBe(a.byteLength > 1024 ? 1 : 0);
        for (const out of roundTrips(a)) {
          expect(out.constructor).toBe(Kind);
          expect(out).toEqual(a);
        }
      }
    }
  });

  it('keeps Float32Array a Float32Array with the same values', () => {
    const a = new Float32Array([1.5, -2.25, Math.PI, NaN, -0, 3.4e38]);
    for (const out of roundTrips({ a, big: new Float32Array(10_000).fill(Math.E) })) {
      expect(out.a).toBeInstanceOf(Float32Array);
      expect(out.big).toBeInstanceOf(Float32Array);
      expect([...out.a]).toEqual([...a]);
      expect(out.big[9999]).toBe(Math.fround(Math.E));
    }
  });

  it('keeps a Buffer a Buffer (small, large, and pooled with a byteOffset)', () => {
    const pooled = Buffer.from('pooled bytes'); // byteOffset inside Node's 8 KiB pool
    const large = Buffer.alloc(100_000, 0xab);
    for (const out of roundTrips({ pooled, large, u8: new Uint8Array([1, 2]) })) {
      expect(Buffer.isBuffer(out.pooled)).toBe(true);
      expect(out.pooled.toString()).toBe('pooled bytes');
      expect(Buffer.isBuffer(out.large)).toBe(true);
      expect(out.large.equals(large)).toBe(true);
      expect(Buffer.isBuffer(out.u8)).toBe(false);
      expect(out.u8).toBeInstanceOf(Uint8Array);
    }
  });

  it('keeps DataViews and subarray views (only the viewed bytes travel)', () => {
    const backing = new ArrayBuffer(8192);
    new Uint8Array(backing).forEach((_, i, arr) => (arr[i] = i & 0xff));
    const view = new DataView(backing, 1000, 3000);
    const sub = new Int16Array(backing, 2048, 1000);
    const e = encodeValue({ view, sub });
    expect(e.buffers.map((b) => b.byteLength)).toEqual([3000, 2000]);
    for (const out of roundTrips({ view, sub })) {
      expect(out.view).toBeInstanceOf(DataView);
      expect(out.view.byteLength).toBe(3000);
      expect(out.view.getUint8(0)).toBe(1000 & 0xff);
      expect(out.sub).toEqual(sub);
    }
  });

  it('sends large views out of band as views over the original memory, small ones inline', () => {
    const big = new Float64Array(1000); // 8000 bytes
    const small = new Float64Array(100); // 800 bytes
    const e = encodeValue({ big, small });
    expect(e.buffers).toHaveLength(1);
    expect(e.buffers[0]!.buffer).toBe(big.buffer); // not a copy
    expect(e.meta.byteLength).toBeLessThan(1000); // the small one inline, the big one not
    const custom = encodeValue({ big, small }, { outOfBandThreshold: 100 });
    expect(custom.buffers).toHaveLength(2);
    const none = encodeValue({ big, small }, { outOfBandThreshold: Infinity });
    expect(none.buffers).toHaveLength(0);
    expect(decodeValue<{ big: Float64Array }>(none).big).toEqual(big);
  });

  it('sends large ArrayBuffers out of band, top-level and nested, and small ones inline', () => {
    const top = new ArrayBuffer(5000);
    new Uint8Array(top).fill(9);
    const e = encodeValue(top);
    expect(e.buffers).toHaveLength(1);
    expect(e.buffers[0]!.buffer).toBe(top);
    expect(e.meta.byteLength).toBeLessThan(64);
    for (const out of roundTrips(top)) {
      expect(out).toBeInstanceOf(ArrayBuffer);
      expect(new Uint8Array(out)).toEqual(new Uint8Array(top));
    }
    const nested = { a: [new ArrayBuffer(3000)], m: new Map([['k', new ArrayBuffer(2000)]]), s: new ArrayBuffer(10) };
    expect(encodeValue(nested).buffers.map((b) => b.byteLength).sort()).toEqual([2000, 3000]);
    for (const out of roundTrips(nested)) {
      expect(out.a[0]!.byteLength).toBe(3000);
      expect(out.m.get('k')!.byteLength).toBe(2000);
      expect(out.s.byteLength).toBe(10);
    }
  });

  it('views in an Encoded are not copied, so the decoded value aliases them', () => {
    const big = new Float64Array(1000);
    const out = decodeValue<Float64Array>(encodeValue(big));
    expect(out.buffer).toBe(big.buffer);
  });
});

describe('object refs', () => {
  it('finds refs nested in arrays, object fields, Map keys and values, Sets and class instances', () => {
    class Holder {
      constructor(readonly inner: Ref) {}
    }
    const r1 = new Ref('r1');
    const value = {
      list: [1, r1, { deep: [new Ref('r2')] }],
      field: new Ref('r3'),
      map: new Map<unknown, unknown>([
        ['k', new Ref('r4')],
        [new Ref('r5'), 'ref as key'],
      ]),
      set: new Set([new Ref('r6')]),
      holder: new Holder(new Ref('r7')),
      again: r1,
      sameId: new Ref('r3'),
      big: new Float64Array(10_000),
    };
    const e = encodeValue(value, refOptions);
    expect([...e.refs].sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']); // each once
    const block = new Uint8Array(encodedSize(e));
    writeEncoded(e, block);
    expect(readRefs(block).sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    for (const out of roundTrips(value)) {
      expect(out.list[1]).toEqual(new Ref('r1'));
      expect(out.list[1]).toBeInstanceOf(Ref);
      expect((out.list[2] as { deep: Ref[] }).deep[0]).toEqual(new Ref('r2'));
      expect(out.field).toEqual(new Ref('r3'));
      expect(out.map.get('k')).toEqual(new Ref('r4'));
      const refKey = [...out.map.keys()][1];
      expect(refKey).toBeInstanceOf(Ref);
      expect(out.map.get(refKey)).toBe('ref as key');
      expect([...out.set][0]).toEqual(new Ref('r6'));
      expect(out.holder.inner).toEqual(new Ref('r7'));
      expect(out.again).toBe(out.list[1]); // the same ref object stays one object
      expect(out.sameId).not.toBe(out.field); // two ref objects stay two
      expect(out.big).toBeInstanceOf(Float64Array);
    }
  });

  it('keeps refs inside Errors and cycles', () => {
    const err = Object.assign(new Error('with ref'), { ref: new Ref('e1') });
    const cyc: Record<string, unknown> = { ref: new Ref('c1') };
    cyc.me = cyc;
    for (const out of roundTrips({ err, cyc })) {
      expect((out.err as typeof err).ref).toEqual(new Ref('e1'));
      expect(out.cyc.me).toBe(out.cyc);
      expect(out.cyc.ref).toEqual(new Ref('c1'));
    }
  });

  it('revives a top-level ref', () => {
    const e = encodeValue(new Ref('top'), refOptions);
    expect(e.refs).toEqual(['top']);
    expect(decodeValue(e, refOptions)).toEqual(new Ref('top'));
  });

  it('does not call reviveRef for a value without refs, and lists no refs', () => {
    const reviveRef = vi.fn((id: string) => new Ref(id));
    const value = { a: [1, { b: new Map([['x', new Date(0)]]) }], f: new Float64Array(4096) };
    const e = encodeValue(value, refOptions);
    expect(e.refs).toEqual([]);
    const block = encodeToBuffer(value, refOptions);
    expect(readRefs(block)).toEqual([]);
    decodeValue(e, { reviveRef });
    readEncoded(block, { reviveRef });
    expect(reviveRef).not.toHaveBeenCalled();
  });

  it('never looks inside typed arrays or ArrayBuffers, so a 1e7-element argument costs O(1)', () => {
    let calls = 0; // (not a vi.fn: a failure message would print its 80 MB arguments)
    const isRef = (v: object): string | undefined => {
      calls++;
      return v instanceof Ref ? v.id : undefined;
    };
    const huge = new Float64Array(1e7);
    const e = encodeValue({ arg: huge, ab: huge.buffer, list: [huge] }, { isRef });
    expect(calls).toBe(0); // plain objects, arrays, views, ArrayBuffers are never refs
    expect(e.buffers.length).toBe(2);
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) encodeValue(huge, { isRef });
    expect((performance.now() - t0) / 100).toBeLessThan(5); // ms per call; a walk of 1e7 items takes far longer
  });

  it('refuses to decode refs without reviveRef, and lets reviveRef errors through unchanged', () => {
    const e = encodeValue({ r: new Ref('x') }, refOptions);
    expect(() => decodeValue(e)).toThrow(SerializationError);
    expect(() => decodeValue(e)).toThrow(/holds object refs \(x\) but no reviveRef/);
    const boom = new Error('owner gone');
    expect(() =>
      decodeValue(e, {
        reviveRef: () => {
          throw boom;
        },
      }),
    ).toThrow(boom);
  });
});

describe('fast paths', () => {
  it('encodes small plain data as JSON and everything else with v8', () => {
    expect(new TextDecoder().decode(encodeValue('ok').meta)).toBe('"ok"');
    expect(new TextDecoder().decode(encodeValue({ a: [1, 'b'] }).meta)).toBe('{"a":[1,"b"]}');
    expect(encodeValue(undefined).meta).toEqual(new Uint8Array([0]));
    for (const v of [{ d: new Date(0) }, { u: undefined }, [1, , 2], { n: NaN }, { x: -0 }, { b: 1n }]) {
      expect(encodeValue(v).meta[0], JSON.stringify(v, (_k, x) => String(x))).toBe(0xff);
    }
    const shared = { s: 1 };
    expect(encodeValue({ a: shared, b: shared }).meta[0]).toBe(0xff); // JSON would duplicate it
    expect(encodeValue(Array.from({ length: 1000 }, (_, i) => i)).meta[0]).toBe(0xff); // large: v8 is faster
  });

  it('encodeToBuffer of a small value is one small block', () => {
    const buf = encodeToBuffer('ok');
    expect(buf.byteLength).toBe(32 + 4);
    expect(decodeFromBuffer(buf)).toBe('ok');
    expect(decodeFromBuffer(encodeToBuffer(undefined))).toBeUndefined();
  });
});
