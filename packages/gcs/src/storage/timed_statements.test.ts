import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from './database.js';
import { statementLabels, timeStatements, type StorageHistogram } from './timed_statements.js';
import { JobTable } from '../job_table.js';

let dir: string;
let db: Db;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-test-')); });
afterEach(() => {
  if (db?.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function recorder() {
  const seen: string[] = [];
  const histogram: StorageHistogram = {
    labels: (...labels: string[]) => ({ observe: (s: number) => { expect(s).toBeGreaterThanOrEqual(0); seen.push(labels.join(' ').trim()); } }),
  };
  return { histogram, seen };
}

describe('statementLabels', () => {
  it('names the operation and the first table', () => {
    expect(statementLabels('INSERT INTO jobs (a) VALUES (?)')).toEqual(['INSERT', 'jobs']);
    expect(statementLabels('  insert or ignore into kv (namespace) values (?)')).toEqual(['INSERT', 'kv']);
    expect(statementLabels('UPDATE nodes SET state = ?')).toEqual(['UPDATE', 'nodes']);
    expect(statementLabels('DELETE FROM actors WHERE x')).toEqual(['DELETE', 'actors']);
    expect(statementLabels('SELECT record FROM actors WHERE state != 1 UNION ALL SELECT record FROM (SELECT 1)')).toEqual(['SELECT', 'actors']);
    expect(statementLabels('PRAGMA user_version')).toEqual(['PRAGMA', '']);
  });
});

describe('timeStatements', () => {
  it('times every statement of the tables built on it, and whole transactions', () => {
    const { histogram, seen } = recorder();
    db = timeStatements(openDatabase(dir), histogram);
    const jobs = new JobTable(db);
    const id = jobs.register('n'.repeat(56), 1, 'main.mjs', '/tmp');
    expect(jobs.isRunning(id)).toBe(true);
    expect(jobs.markFinished(id)).toBe(true);
    expect(jobs.countByState()).toEqual({ RUNNING: 0, FINISHED: 1 });
    db.transaction(() => { jobs.register('n'.repeat(56), 2, '', ''); })();
    expect(seen).toEqual(['INSERT jobs', 'SELECT jobs', 'UPDATE jobs', 'SELECT jobs', 'INSERT jobs', 'TRANSACTION']);
  });

  it('keeps what statements and transactions return and throw, and their variants', () => {
    const { histogram, seen } = recorder();
    db = timeStatements(openDatabase(dir), histogram);
    expect(db.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 });
    expect(db.prepare('SELECT 2 AS two').pluck().all()).toEqual([2]);
    expect(() => db.prepare('INSERT INTO jobs (node_id) VALUES (NULL)').run()).toThrow(/NOT NULL/);
    expect(db.transaction((x: number) => x + 1)(1)).toBe(2);
    expect(db.transaction(() => 'immediate').immediate()).toBe('immediate');
    expect(seen).toEqual(['SELECT', 'SELECT', 'INSERT jobs', 'TRANSACTION']);
  });
});
