/**
 * The head's SQLite database: WAL journal, numbered .sql migrations tracked in PRAGMA user_version,
 * and an integrity check at open. A damaged file stops the head; it is never replaced silently (that
 * would mint a new cluster). Durability is `RAYTS_GCS_SYNCHRONOUS`: NORMAL (default) keeps every
 * acknowledged change across a crash or SIGKILL of the head, and WAL keeps the file consistent even
 * on a power cut, which may lose the last changes; FULL also survives that, at an fsync per change
 * (1-10 ms here, on the path of every actor creation and placement group).
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateCorruptError } from '@rayts/common';
import { sqliteNativeBinding } from './sqlite_binding.js';

export type Db = Database.Database;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
export const DB_FILE = 'gcs.db';

function corrupt(path: string, detail: string): StateCorruptError {
  return new StateCorruptError(`the head's state database ${path} is damaged (${detail}); it was left untouched`,
    `restore it from a backup, or move it away to start a NEW cluster (new cluster id, nodes must rejoin)`);
}

export function openDatabase(stateDir: string, synchronous: 'NORMAL' | 'FULL' = 'NORMAL'): Db {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, DB_FILE);
  const existed = existsSync(path);
  const nativeBinding = sqliteNativeBinding();
  let db: Db;
  try {
    db = new Database(path, { fileMustExist: false, nativeBinding });
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
  } catch (err) {
    throw corrupt(path, (err as Error).message);
  }
  if (existed) {
    let result: unknown;
    try {
      result = db.pragma('quick_check', { simple: true });
    } catch (err) {
      db.close();
      throw corrupt(path, (err as Error).message);
    }
    if (result !== 'ok') {
      db.close();
      throw corrupt(path, `quick_check: ${String(result)}`);
    }
  }
  try {
    migrate(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function migrate(db: Db, path: string): void {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
  const current = db.pragma('user_version', { simple: true }) as number;
  // Versions are the file numbers (not their count), so a branch may add 004 before 003 lands.
  const latest = files.length ? Number(files[files.length - 1]!.slice(0, 3)) : 0;
  if (current > latest) {
    throw new StateCorruptError(`the state database ${path} has schema version ${current}, newer than this rayts knows (${latest})`,
      'run the rayts release that wrote it, or a newer one');
  }
  for (const file of files.filter((f) => Number(f.slice(0, 3)) > current)) {
    const version = Number(file.slice(0, 3));
    const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
