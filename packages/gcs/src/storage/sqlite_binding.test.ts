import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCS_NATIVE_DIR, ownSqliteBuild, sqliteNativeBinding } from './sqlite_binding.js';
import { SqliteBindingError } from '../errors.js';

describe('sqliteNativeBinding', () => {
  it("takes better-sqlite3's own build where there is one (a checkout after npm ci)", () => {
    expect(sqliteNativeBinding()).toBe(ownSqliteBuild().addon);
  });

  it('falls back to the prebuilt one of this Node ABI when better-sqlite3 was not built (an installed package)', () => {
    const path = sqliteNativeBinding({ ownAddon: '/nonexistent/better_sqlite3.node', packageDir: '/nonexistent', prebuiltDir: GCS_NATIVE_DIR });
    const libc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime ? 'glibc' : 'musl';
    expect(path).toBe(join(GCS_NATIVE_DIR, 'prebuilds', `${process.platform}-${process.arch}`, `node.abi${process.versions.modules}.${libc}.node`));
  });

  it('says what is missing and how to build it when neither exists', () => {
    const empty = mkdtempSync(join(tmpdir(), 'rayts-sqlite-'));
    const attempt = () => sqliteNativeBinding({ ownAddon: join(empty, 'better_sqlite3.node'), packageDir: '/opt/x/better-sqlite3', prebuiltDir: empty });
    expect(attempt).toThrow(SqliteBindingError);
    expect(attempt).toThrow(/better-sqlite3 was not built .*; no prebuilt for .* Node ABI \d+ \(prebuilt: none\)/);
    try { attempt(); } catch (err) {
      expect((err as SqliteBindingError).hint).toContain('cd /opt/x/better-sqlite3 && npx node-gyp rebuild --release');
    }
  });
});
