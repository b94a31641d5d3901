import { describe, expect, it } from 'vitest';
import { BadQueryError } from '../errors.js';
import { applyFilters, checkFilterKeys, parseFilter, parseQuery, project } from './query.js';

describe('state query', () => {
  it('parses key=value and key!=value, trimming around the value', () => {
    expect(parseFilter('state=ALIVE')).toEqual({ key: 'state', predicate: '=', value: 'ALIVE' });
    expect(parseFilter('name != foo bar ')).toEqual({ key: 'name', predicate: '!=', value: 'foo bar' });
    expect(parseFilter('call_site=a=b')).toEqual({ key: 'call_site', predicate: '=', value: 'a=b' });
  });

  it('refuses filters without a predicate, naming the parameter', () => {
    for (const bad of ['state', '=ALIVE', 'state~ALIVE', '1x=2']) {
      expect(() => parseFilter(bad), bad).toThrow(BadQueryError);
      expect(() => parseFilter(bad), bad).toThrow(/bad filter/);
    }
  });

  it('defaults the limit to 100 and refuses 0, fractions and more than 10,000', () => {
    expect(parseQuery({}).limit).toBe(100);
    expect(parseQuery({ limit: '10000' }).limit).toBe(10_000);
    for (const bad of ['0', '-1', '1.5', '10001', 'many']) expect(() => parseQuery({ limit: bad }), bad).toThrow(/bad limit/);
    expect(() => parseQuery({ detail: 'maybe' })).toThrow(/bad detail/);
    expect(() => parseQuery({ timeout: '0' })).toThrow(/bad timeout/);
  });

  it('takes one filter or many', () => {
    expect(parseQuery({ filter: 'a=1' }).filters).toHaveLength(1);
    expect(parseQuery({ filter: ['a=1', 'b!=2'] }).filters).toHaveLength(2);
  });

  const rows = [
    { id: 'a', state: 'ALIVE', pid: 10, name: null },
    { id: 'b', state: 'DEAD', pid: 11, name: 'Foo' },
    { id: 'c', state: 'alive', pid: 12, name: 'foo' },
  ];

  it('ANDs filters and compares values case-insensitively; null matches "" and none', () => {
    expect(applyFilters(rows, [parseFilter('state=ALIVE')]).map((r) => r.id)).toEqual(['a', 'c']);
    expect(applyFilters(rows, [parseFilter('state=alive'), parseFilter('pid!=10')]).map((r) => r.id)).toEqual(['c']);
    expect(applyFilters(rows, [parseFilter('name=FOO')]).map((r) => r.id)).toEqual(['b', 'c']);
    expect(applyFilters(rows, [parseFilter('name=none')]).map((r) => r.id)).toEqual(['a']);
    expect(applyFilters(rows, [parseFilter('pid=11')]).map((r) => r.id)).toEqual(['b']);
  });

  it('refuses filter keys the resource does not have, listing those it has', () => {
    expect(() => checkFilterKeys([parseFilter('colour=red')], ['id', 'state'])).toThrow(/'colour' is not a field.*id, state/);
    expect(() => checkFilterKeys([parseFilter('state=x')], ['id', 'state'])).not.toThrow();
  });

  it('projects a row onto columns in their order, absent ones as null', () => {
    expect(Object.entries(project({ b: 2, a: 1 }, ['a', 'z', 'b']))).toEqual([['a', 1], ['z', null], ['b', 2]]);
  });
});
