import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StateCorruptError } from '@rayts/common';
import { loadOrCreateIdentity } from '../cluster_identity.js';
import { DB_FILE, MIGRATIONS_DIR, openDatabase, type Db } from './database.js';

let dir: string;
const open: Db[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-test-'));
});
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openTracked(stateDir: string): Db {
  const db = openDatabase(stateDir);
  open.push(db);
  return db;
}

/** The schema version the migrations reach: the highest file number. */
function migrationCount(): number {
  return Math.max(...fs.readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}_.+\.sql$/.test(f)).map((f) => Number(f.slice(0, 3))));
}

function corruptErrorOf(fn: () => unknown): StateCorruptError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StateCorruptError);
    return err as StateCorruptError;
  }
  throw new Error('expected a StateCorruptError, nothing was thrown');
}

describe('openDatabase', () => {
  it('uses synchronous=FULL when asked (RAYTS_GCS_SYNCHRONOUS=full)', () => {
    const db = openDatabase(path.join(dir, 'full'), 'FULL');
    try {
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      db.close();
    }
  });

  it('creates gcs.db in WAL mode with the schema and the migration version', () => {
    const stateDir = path.join(dir, 'state');
    const db = openTracked(stateDir);
    expect(fs.existsSync(path.join(stateDir, DB_FILE))).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL, the default
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['nodes', 'kv', 'cluster_meta']));
    expect(migrationCount()).toBeGreaterThan(0);
    expect(db.pragma('user_version', { simple: true })).toBe(migrationCount());
  });

  it('reopens an existing database without re-running migrations', () => {
    const db = openTracked(dir);
    db.prepare('INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?)').run('ns', 'k', Buffer.from('v'));
    db.close();
    const again = openTracked(dir);
    expect(again.pragma('user_version', { simple: true })).toBe(migrationCount());
    expect((again.prepare('SELECT value FROM kv WHERE key = ?').get('k') as { value: Buffer }).value.toString()).toBe('v');
    expect(again.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('refuses a file of random bytes and leaves it untouched', () => {
    const file = path.join(dir, DB_FILE);
    const junk = randomBytes(64 * 1024);
    fs.writeFileSync(file, junk);
    const err = corruptErrorOf(() => openTracked(dir));
    expect(err.message).toContain(file);
    expect(err.hint).toBeTruthy();
    expect(fs.readFileSync(file).equals(junk)).toBe(true);
    // A second attempt must fail the same way: nothing replaced the file meanwhile.
    corruptErrorOf(() => openTracked(dir));
    expect(fs.readFileSync(file).equals(junk)).toBe(true);
  });

  it('refuses a database whose header is valid but whose pages are damaged', () => {
    const db = openTracked(dir);
    const insert = db.prepare('INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?)');
    for (let i = 0; i < 200; i++) insert.run('ns', `key-${i}`, randomBytes(200));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const file = path.join(dir, DB_FILE);
    const bytes = fs.readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    expect(bytes.length).toBeGreaterThan(2 * pageSize);
    // Scribble over the second page onwards, keep the header page.
    bytes.fill(0xaa, pageSize);
    fs.writeFileSync(file, bytes);
    corruptErrorOf(() => openTracked(dir));
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });

  it('refuses a database written by a newer schema', () => {
    const db = openTracked(dir);
    db.pragma(`user_version = ${migrationCount() + 1}`);
    db.close();
    const err = corruptErrorOf(() => openTracked(dir));
    expect(err.message).toContain(String(migrationCount() + 1));
    // Still at the newer version: nothing was rolled back or rewritten.
    const raw = new Database(path.join(dir, DB_FILE), { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(migrationCount() + 1);
    } finally {
      raw.close();
    }
  });
});

describe('loadOrCreateIdentity', () => {
  it('creates the cluster id once and returns the same one after a reopen', () => {
    const db = openTracked(dir);
    const first = loadOrCreateIdentity(db);
    expect(first.created).toBe(true);
    expect(first.clusterId).toMatch(/^[0-9a-f]+$/);
    expect(first.createdAtMs).toBeGreaterThan(0);
    expect(loadOrCreateIdentity(db)).toEqual({ ...first, created: false });
    db.close();

    const again = openTracked(dir);
    const second = loadOrCreateIdentity(again);
    expect(second.created).toBe(false);
    expect(second.clusterId).toBe(first.clusterId);
    expect(second.createdAtMs).toBe(first.createdAtMs);
    expect(second.version).toBe(first.version);
  });

  it('gives different clusters different ids', () => {
    const a = loadOrCreateIdentity(openTracked(path.join(dir, 'a')));
    const b = loadOrCreateIdentity(openTracked(path.join(dir, 'b')));
    expect(a.created && b.created).toBe(true);
    expect(a.clusterId).not.toBe(b.clusterId);
  });
});
