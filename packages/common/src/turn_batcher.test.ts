import { describe, it, expect } from 'vitest';
import { TurnBatcher, type BatchOutcome } from './turn_batcher.js';

describe('TurnBatcher', () => {
  it('sends the calls of one turn as one batch and answers each in order', async () => {
    const batches: number[][] = [];
    const b = new TurnBatcher<number, number>((items) => {
      batches.push(items);
      return items.map((n) => ({ ok: true, value: n * 10 }));
    });
    const answers = await Promise.all([1, 2, 3].map((n) => b.add(n)));
    expect(answers).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await b.add(4)).toBe(40);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('rejects only the items whose outcome is an error', async () => {
    const b = new TurnBatcher<number, number>((items) => items.map((n): BatchOutcome<number> =>
      (n % 2 ? { ok: true, value: n } : { ok: false, error: new RangeError(`even ${n}`) })));
    const settled = await Promise.allSettled([1, 2, 3].map((n) => b.add(n)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError);
  });

  it('rejects every item of a batch whose send fails, and keeps working', async () => {
    let fail = true;
    const b = new TurnBatcher<number, number>(async (items) => {
      if (fail) throw new Error('down');
      return items.map((n) => ({ ok: true, value: n }));
    });
    const settled = await Promise.allSettled([1, 2].map((n) => b.add(n)));
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'down')).toBe(true);
    fail = false;
    expect(await b.add(5)).toBe(5);
  });

  it('splits a burst larger than maxBatch', async () => {
    const sizes: number[] = [];
    const b = new TurnBatcher<number, number>((items) => { sizes.push(items.length); return items.map((n) => ({ ok: true, value: n })); }, 4);
    await Promise.all(Array.from({ length: 10 }, (_, i) => b.add(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('rejects items a short answer left out instead of leaving them pending', async () => {
    const b = new TurnBatcher<number, number>(() => [{ ok: true, value: 1 }]);
    const settled = await Promise.allSettled([1, 2].map((n) => b.add(n)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
  });
});
