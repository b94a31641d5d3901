/** The internal key/value table (function table, packages, configuration), one row per key. */
import type { Db } from './storage/database.js';

export class KvStore {
  private readonly getStmt;
  private readonly insertStmt;
  private readonly upsertStmt;
  private readonly delStmt;
  private readonly keysStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string, string], { value: Buffer }>('SELECT value FROM kv WHERE namespace = ? AND key = ?');
    this.insertStmt = db.prepare('INSERT OR IGNORE INTO kv (namespace, key, value) VALUES (?, ?, ?)');
    this.upsertStmt = db.prepare('INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value');
    this.delStmt = db.prepare('DELETE FROM kv WHERE namespace = ? AND key = ?');
    this.keysStmt = db.prepare<{ ns: string; prefix: string }, { key: string }>(
      'SELECT key FROM kv WHERE namespace = @ns AND substr(key, 1, length(@prefix)) = @prefix ORDER BY key');
  }

  get(namespace: string, key: string): Buffer | undefined {
    return this.getStmt.get(namespace, key)?.value;
  }

  /** Returns true when the key was added (it did not exist before). */
  put(namespace: string, key: string, value: Buffer, overwrite: boolean): boolean {
    const existed = this.get(namespace, key) !== undefined;
    (overwrite ? this.upsertStmt : this.insertStmt).run(namespace, key, value);
    return !existed;
  }

  del(namespace: string, key: string): number {
    return this.delStmt.run(namespace, key).changes;
  }

  keys(namespace: string, prefix: string): string[] {
    return this.keysStmt.all({ ns: namespace, prefix }).map((r) => r.key);
  }
}
