/** Test helpers shared by the object store's test files: ids, hashes, a store factory that cleans up. */
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { ObjectStore } from './object_store.js';
import type { ObjectStoreOptions } from './store_api.js';
import { probeTmpfsMount, unmountAll } from './tmpfs.test_helper.js';

export const MiB = 1024 * 1024;
export const KiB = 1024;

export function oid(n: number | string): string {
  return createHash('sha256').update(`object-${n}`).digest('hex').slice(0, 56);
}

export function sha(view: Uint8Array): string {
  return createHash('sha256').update(view).digest('hex');
}

/** create → random bytes → seal; returns the bytes' hash. */
export async function put(store: ObjectStore, id: string, size: number, primary = true): Promise<string> {
  const { view } = await store.create(id, size, { primary });
  randomFillSync(view);
  const h = sha(view);
  store.seal(id);
  return h;
}

/** Lets pending promise callbacks and I/O callbacks run (not a sleep: a few event-loop turns). */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

export const canMount = probeTmpfsMount();
export const tinyFsName = (what: string): string =>
  canMount ? what : `${what} (SKIPPED: mount -t tmpfs failed with EPERM, needs root/CAP_SYS_ADMIN)`;

/** Spill files in `dir` and their total size. */
export function spillListing(dir: string): { names: string[]; bytes: number } {
  if (!existsSync(dir)) return { names: [], bytes: 0 };
  const names = readdirSync(dir).sort();
  return { names, bytes: names.reduce((s, n) => s + statSync(join(dir, n)).size, 0) };
}

export interface StoreFixture {
  /** Mount points to unmount after each test. */
  mounts: string[];
  tempDir(): string;
  newStore(opts: Partial<ObjectStoreOptions> & { size: number }): ObjectStore;
}

/** Call inside a describe: stores, temp dirs and mounts made through it are removed after each test. */
export function useStores(): StoreFixture {
  const stores: ObjectStore[] = [];
  const dirs: string[] = [];
  const mounts: string[] = [];

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    unmountAll(mounts);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  return {
    mounts,
    tempDir() {
      const d = mkdtempSync(join(tmpdir(), 'rayts-os-test-'));
      dirs.push(d);
      return d;
    },
    newStore(opts) {
      const s = new ObjectStore({ prefault: false, fullTimeoutMs: 200, ...opts });
      stores.push(s);
      return s;
    },
  };
}
