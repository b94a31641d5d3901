import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KvStore } from './kv_store.js';
import { openDatabase, type Db } from './storage/database.js';

let dir: string;
let db: Db;
let kv: KvStore;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-test-'));
  db = openDatabase(dir);
  kv = new KvStore(db);
});
afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const b = (s: string) => Buffer.from(s);

describe('KvStore', () => {
  it('get of a missing key is undefined', () => {
    expect(kv.get('ns', 'missing')).toBeUndefined();
  });

  it('put then get round-trips binary values', () => {
    const value = Buffer.from([0, 1, 2, 255, 0]);
    expect(kv.put('ns', 'k', value, false)).toBe(true);
    expect(kv.get('ns', 'k')?.equals(value)).toBe(true);
  });

  it('stores an empty value as present', () => {
    expect(kv.put('ns', 'empty', Buffer.alloc(0), false)).toBe(true);
    const got = kv.get('ns', 'empty');
    expect(got).toBeDefined();
    expect(got?.length).toBe(0);
    expect(kv.put('ns', 'empty', b('x'), false)).toBe(false);
  });

  it('overwrite=false keeps the old value and reports added=false', () => {
    expect(kv.put('ns', 'k', b('old'), false)).toBe(true);
    expect(kv.put('ns', 'k', b('new'), false)).toBe(false);
    expect(kv.get('ns', 'k')?.toString()).toBe('old');
  });

  it('overwrite=true replaces the value and reports added=false', () => {
    expect(kv.put('ns', 'k', b('old'), true)).toBe(true);
    expect(kv.put('ns', 'k', b('new'), true)).toBe(false);
    expect(kv.get('ns', 'k')?.toString()).toBe('new');
  });

  it('keeps namespaces apart', () => {
    kv.put('a', 'k', b('in a'), false);
    expect(kv.put('b', 'k', b('in b'), false)).toBe(true);
    expect(kv.get('a', 'k')?.toString()).toBe('in a');
    expect(kv.get('b', 'k')?.toString()).toBe('in b');
    expect(kv.keys('a', '')).toEqual(['k']);
    expect(kv.del('a', 'k')).toBe(1);
    expect(kv.get('b', 'k')?.toString()).toBe('in b');
  });

  it('del removes a key and counts what it removed', () => {
    kv.put('ns', 'k', b('v'), false);
    expect(kv.del('ns', 'k')).toBe(1);
    expect(kv.get('ns', 'k')).toBeUndefined();
    expect(kv.del('ns', 'k')).toBe(0);
    expect(kv.put('ns', 'k', b('again'), false)).toBe(true);
  });

  it('keys lists keys with a prefix, sorted', () => {
    for (const key of ['fn:b', 'fn:a', 'fnx', 'pkg:1', 'FN:upper']) kv.put('ns', key, b('v'), false);
    expect(kv.keys('ns', 'fn:')).toEqual(['fn:a', 'fn:b']);
    expect(kv.keys('ns', 'fn')).toEqual(['fn:a', 'fn:b', 'fnx']);
    expect(kv.keys('ns', '')).toEqual(['FN:upper', 'fn:a', 'fn:b', 'fnx', 'pkg:1']);
    expect(kv.keys('ns', 'nothing')).toEqual([]);
    expect(kv.keys('other', '')).toEqual([]);
  });

  it('treats % and _ in a prefix literally', () => {
    for (const key of ['100%_done', '100abc', '100%xdone', 'a_b', 'axb', 'a_', 'ab']) kv.put('ns', key, b('v'), false);
    expect(kv.keys('ns', '100%')).toEqual(['100%_done', '100%xdone']);
    expect(kv.keys('ns', '100%_')).toEqual(['100%_done']);
    expect(kv.keys('ns', 'a_')).toEqual(['a_', 'a_b']);
    expect(kv.keys('ns', '%')).toEqual([]);
    expect(kv.keys('ns', '_')).toEqual([]);
  });

  it('treats a prefix case-sensitively and handles non-ASCII keys', () => {
    for (const key of ['Ärger', 'ärger', 'äx', 'a']) kv.put('ns', key, b('v'), false);
    expect(kv.keys('ns', 'ä')).toEqual(['ärger', 'äx']);
    expect(kv.keys('ns', 'Ä')).toEqual(['Ärger']);
  });

  it('persists across a reopen', () => {
    kv.put('ns', 'k', b('durable'), false);
    db.close();
    db = openDatabase(dir);
    kv = new KvStore(db);
    expect(kv.get('ns', 'k')?.toString()).toBe('durable');
  });
});
