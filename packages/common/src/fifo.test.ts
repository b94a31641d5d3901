import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo.js';

describe('Fifo', () => {
  it('keeps order through pushes, shifts, front returns and removals, at any length', () => {
    const q = new Fifo<number>();
    const n = 300_000;
    for (let i = 0; i < n; i++) q.push(i);
    for (let i = 0; i < n / 2; i++) expect(q.shift()).toBe(i);
    q.unshift(-1);
    expect(q.peek()).toBe(-1);
    expect(q.length).toBe(n / 2 + 1);
    const odd = q.removeWhere((x) => x % 2 === 1);
    expect(odd.length).toBe(n / 4);
    expect(odd[0]).toBe(n / 2 + 1);
    expect([...q].slice(0, 3)).toEqual([-1, n / 2, n / 2 + 2]);
    let last = -Infinity;
    let count = 0;
    for (let x = q.shift(); x !== undefined; x = q.shift()) {
      expect(x).toBeGreaterThan(last);
      last = x;
      count += 1;
    }
    expect(count).toBe(n / 4 + 1);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
});
