/**
 * A full disk under the state dir, told plainly: SQLite's "database or disk is full" (SQLITE_FULL,
 * or ENOSPC from a write) becomes StateDiskFullError naming the database file and what to do. The
 * statement or transaction did not happen (SQLite rolls it back); the request that needed it fails
 * with RESOURCE_EXHAUSTED and that message, and the head goes on serving. Applied right after the
 * database is opened, before any table prepares its statements (as timeStatements).
 */
import { dirname } from 'node:path';
import { StateDiskFullError } from '../errors.js';
import type { Db } from './database.js';

/** True for SQLite's and the OS's "no space left" errors. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT'
    || (err instanceof Error && /database or disk is full|no space left on device/i.test(err.message));
}

export function diskFullError(path: string, err: Error): StateDiskFullError {
  const dir = dirname(path);
  return new StateDiskFullError(`the head's state database ${path} cannot be written: its disk is full (${err.message}); the change was not made`,
    `free space on the filesystem that holds ${dir} (df -h ${dir}); the head goes on serving and writes again once there is room`);
}

function translated<A extends unknown[], R>(fn: (...args: A) => R, path: string): (...args: A) => R {
  return (...args: A) => {
    try {
      return fn(...args);
    } catch (err) {
      throw isDiskFull(err) ? diskFullError(path, err as Error) : err;
    }
  };
}

/** Makes `db`'s writes (statements run, transactions) throw StateDiskFullError on a full disk; returns the same database. */
export function explainDiskFull(db: Db, path: string): Db {
  const prepare = db.prepare.bind(db);
  const transaction = db.transaction.bind(db);
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    statement.run = translated(statement.run.bind(statement), path) as typeof statement.run;
    return statement;
  }) as Db['prepare'];
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const tx = transaction(fn);
    const outer = translated(tx, path);
    for (const key of ['default', 'deferred', 'immediate', 'exclusive'] as const) Object.defineProperty(outer, key, { value: tx[key] });
    return outer;
  }) as Db['transaction'];
  return db;
}
