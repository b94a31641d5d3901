/**
 * Times the head's SQLite work for the storage latency histogram, without touching the table classes:
 * every statement prepared on the database afterwards has its `run`/`get`/`all` timed under its
 * operation and table (`INSERT nodes`, `UPDATE actors`, …), and every transaction as a whole (where
 * a commit's cost shows). The histogram child of each statement is bound once, at prepare; a call
 * costs two clock reads and one observation. Applied right after the database is opened, before any
 * table prepares its statements.
 */
import type { Db } from './database.js';

/** The part of a prom-client `Histogram<'operation' | 'table'>` used here. */
export interface StorageHistogram {
  labels(...values: string[]): { observe(seconds: number): void };
}

export const STORAGE_LATENCY_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** `INSERT INTO nodes …` → ['INSERT', 'nodes']; the first table a statement names. */
export function statementLabels(sql: string): [operation: string, table: string] {
  const text = sql.trim();
  const operation = (/^\w+/.exec(text)?.[0] ?? '').toUpperCase();
  const table = operation === 'INSERT' ? /\bINTO\s+(\w+)/i.exec(text)?.[1]
    : operation === 'UPDATE' ? /^UPDATE\s+(?:OR\s+\w+\s+)?(\w+)/i.exec(text)?.[1]
      : /\bFROM\s+(\w+)/i.exec(text)?.[1];
  return [operation || 'OTHER', table ?? ''];
}

function timed<A extends unknown[], R>(fn: (...args: A) => R, observe: (seconds: number) => void): (...args: A) => R {
  return (...args: A) => {
    const started = performance.now();
    try {
      return fn(...args);
    } finally {
      observe((performance.now() - started) / 1000);
    }
  };
}

/** Makes `db` time its statements and transactions into `histogram`; returns the same database. */
export function timeStatements(db: Db, histogram: StorageHistogram): Db {
  const prepare = db.prepare.bind(db);
  const transaction = db.transaction.bind(db);
  const commits = histogram.labels('TRANSACTION', '');
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    const child = histogram.labels(...statementLabels(sql));
    const observe = (s: number) => child.observe(s);
    statement.run = timed(statement.run.bind(statement), observe) as typeof statement.run;
    statement.get = timed(statement.get.bind(statement), observe) as typeof statement.get;
    statement.all = timed(statement.all.bind(statement), observe) as typeof statement.all;
    return statement;
  }) as Db['prepare'];
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const tx = transaction(fn);
    const outer = timed(tx, (s) => commits.observe(s));
    // The variants (deferred, immediate, exclusive) stay reachable, untimed.
    for (const key of ['default', 'deferred', 'immediate', 'exclusive'] as const) Object.defineProperty(outer, key, { value: tx[key] });
    return outer;
  }) as Db['transaction'];
  return db;
}
