import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Arena, defaultSegmentSize } from './arena.js';
import { nativeAddonPath, adviceConstants, loadNative } from './native.js';
import { NativeAddonError } from './errors.js';
import { probeTmpfsMount, tryMountTmpfs, unmountAll } from './tmpfs.test_helper.js';

const CHILD = fileURLToPath(new URL('./attach_child.mjs', import.meta.url));
const MiB = 1024 * 1024;

function shmListing(): string[] {
  return readdirSync('/dev/shm').sort();
}

function parentPattern(view: Uint8Array): void {
  for (let i = 0; i < view.length; i++) view[i] = (i * 7 + 3) & 255;
}

function childPatternOk(view: Uint8Array): boolean {
  for (let i = 0; i < view.length; i++) if (view[i] !== ((i * 13 + 5) & 255)) return false;
  return true;
}

function waitForMessage(child: ChildProcess, deadlineMs = 30_000): Promise<{ ok: boolean; mismatches?: number; error?: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not report before the deadline')), deadlineMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as { ok: boolean; mismatches?: number; error?: string });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child exited early (code ${code}, signal ${signal})`));
    });
  });
}

/** Runs `fn` with a tmpfs of `size` mounted on a fresh dir; 'EPERM' when mounting is not allowed. */

const canMount = probeTmpfsMount();

describe('native addon', () => {
  it('loads and reports the page size and madvise constants', () => {
    expect(existsSync(nativeAddonPath())).toBe(true);
    const page = loadNative().pageSize();
    expect(page).toBeGreaterThanOrEqual(4096);
    expect(page & (page - 1)).toBe(0);
    expect(adviceConstants().MADV_DONTNEED).toBeTypeOf('number');
  });

  it('is found prebuilt where no build exists (an installed package), and says how to build it where neither fits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rayts-native-'));
    try {
      expect(() => nativeAddonPath(dir)).toThrow(NativeAddonError);
      expect(() => nativeAddonPath(dir)).toThrow(new RegExp(`no build for this machine \\(${process.platform}-${process.arch}\\) under ${dir}`));
      try { nativeAddonPath(dir); } catch (err) { expect((err as NativeAddonError).hint).toMatch(/native\/build\.mjs \(needs python3, make, a C compiler/); }
      const tuple = join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
      mkdirSync(tuple, { recursive: true });
      copyFileSync(nativeAddonPath(), join(tuple, 'rayts_shm.napi.node'));
      expect(nativeAddonPath(dir)).toBe(join(tuple, 'rayts_shm.napi.node'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad arguments with errors instead of crashing', () => {
    const n = loadNative();
    expect(() => n.map(-1, 4096, true, false)).toThrow(/fd/);
    expect(() => n.map(987654, 4096, true, false)).toThrow(/EBADF|Bad file/);
    expect(() => n.map(0, 0, true, false)).toThrow(/size/);
    expect(() => n.map(0, 4096, true, false, 123)).toThrow(/page size/);
  });
});

describe('Arena', () => {
  const arenas: Arena[] = [];
  const dirs: string[] = [];
  const mounts: string[] = [];

  afterEach(() => {
    for (const a of arenas.splice(0)) a.close();
    unmountAll(mounts);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'rayts-arena-test-'));
    dirs.push(d);
    return d;
  }

  it('creates the arena in /dev/shm and leaves nothing there (unlinked at once)', () => {
    const before = shmListing();
    const a = Arena.create({ size: 4 * MiB });
    arenas.push(a);
    expect(shmListing()).toEqual(before);
    expect(a.dir).toBe('/dev/shm');
    expect(a.warning).toBeUndefined();
    expect(a.size).toBe(4 * MiB);
    expect(a.buffer.byteLength).toBe(4 * MiB);
    expect(fstatSync(a.fd).size).toBe(4 * MiB);
    expect(fstatSync(a.fd).nlink).toBe(0);
    expect(a.procPath).toBe(`/proc/${process.pid}/fd/${a.fd}`);
    expect(existsSync(a.procPath)).toBe(true);
    a.close();
    expect(shmListing()).toEqual(before);
  });

  it('shareWithGroup keeps the file named, mode 0660, attachable by its name, until close', () => {
    const dir = tempDir();
    const a = Arena.create({ size: 4 * MiB, dir, shareWithGroup: true });
    arenas.push(a);
    expect(a.sharedPath).toBeDefined();
    expect(a.attachPath).toBe(a.sharedPath);
    expect(readdirSync(dir)).toEqual([a.sharedPath!.slice(dir.length + 1)]);
    expect(statSync(a.sharedPath!).mode & 0o777).toBe(0o660);
    const b = Arena.attach(a.attachPath, a.size);
    new Uint8Array(a.buffer)[5] = 42;
    expect(new Uint8Array(b.buffer)[5]).toBe(42);
    b.close();
    a.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('prefault reserves and touches every page, and the memory is usable', () => {
    const before = shmListing();
    const a = Arena.create({ size: 8 * MiB, prefault: true });
    arenas.push(a);
    expect(shmListing()).toEqual(before);
    // fallocate gave the file real blocks
    expect(fstatSync(a.fd).blocks * 512).toBeGreaterThanOrEqual(8 * MiB);
    const v = a.view(0, 8 * MiB);
    v.fill(0xab);
    expect(v[8 * MiB - 1]).toBe(0xab);
  });

  it('a second mapping through procPath sees the same bytes (same process)', () => {
    const a = Arena.create({ size: 1 * MiB });
    arenas.push(a);
    const b = Arena.attach(a.procPath, a.size);
    arenas.push(b);
    a.view(4096, 100).fill(42);
    expect([...b.view(4096, 100)].every((x) => x === 42)).toBe(true);
    b.view(0, 10).fill(7);
    expect(a.view(0, 10)[9]).toBe(7);
    expect(() => Arena.attach(a.procPath, a.size + 4096)).toThrow(/only/);
  });

  it('two processes share memory: a forked child attaches by procPath, both sides see the other\'s bytes', async () => {
    const a = Arena.create({ size: 2 * MiB, prefault: true });
    arenas.push(a);
    const offset = 1 * MiB + 4160;
    const length = 64 * 1024;
    parentPattern(a.view(offset, length));
    const child = fork(CHILD, [nativeAddonPath(), a.procPath, String(a.size), String(offset), String(length)], { stdio: 'pipe' });
    try {
      const reply = await waitForMessage(child);
      expect(reply.error).toBeUndefined();
      expect(reply.ok).toBe(true);
      expect(reply.mismatches).toBe(0);
      expect(childPatternOk(a.view(offset, length))).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a child can also map the arena through an inherited fd', async () => {
    const a = Arena.create({ size: 1 * MiB });
    arenas.push(a);
    const length = 4096;
    parentPattern(a.view(0, length));
    // stdio slot 3 = ipc, slot 4 = the arena fd: the child sees it as fd 4
    const child = fork(CHILD, [nativeAddonPath(), 'fd:4', String(a.size), '0', String(length)], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', a.fd],
    });
    try {
      const reply = await waitForMessage(child);
      expect(reply).toMatchObject({ ok: true, mismatches: 0 });
      expect(childPatternOk(a.view(0, length))).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('falls back to the temp dir with a loud warning when the dir is unavailable', () => {
    const fallback = tempDir();
    const a = Arena.create({ size: 1 * MiB, dir: '/nonexistent/rayts-shm', fallbackDir: fallback });
    arenas.push(a);
    expect(a.dir).toBe(fallback);
    expect(a.warning).toMatch(/WARNING: the object store is using .* instead of \/nonexistent\/rayts-shm/);
    expect(readdirSync(fallback)).toEqual([]);
  });

  it.skipIf(!canMount)(
    canMount
      ? 'falls back when the shm dir has fewer free bytes than the arena needs (1 MiB tmpfs)'
      : 'falls back when the shm dir is too small (SKIPPED: mount -t tmpfs failed with EPERM)',
    () => {
      const small = tempDir();
      mkdirSync(small, { recursive: true });
      expect(tryMountTmpfs(small, '1m')).toBe(true);
      mounts.push(small);
      const fallback = tempDir();
      const a = Arena.create({ size: 4 * MiB, dir: small, fallbackDir: fallback });
      arenas.push(a);
      expect(a.dir).toBe(fallback);
      expect(a.warning).toMatch(/has only \d+ bytes available/);
      expect(a.warning).toMatch(/--shm-size=/);
      expect(readdirSync(small)).toEqual([]);
      expect(readdirSync(fallback)).toEqual([]);
    },
  );

  it('removes stale arena files of dead processes it finds in the dir', () => {
    const dir = tempDir();
    // pid 2^22+1 is above Linux's pid_max limit, so it is never alive
    const stale = join(dir, `rayts-arena-${4194305}-deadbeef`);
    closeSync(openSync(stale, 'w'));
    const mine = join(dir, `rayts-arena-${process.pid}-cafe`);
    closeSync(openSync(mine, 'w'));
    const a = Arena.create({ size: 64 * 1024, dir });
    arenas.push(a);
    expect(readdirSync(dir).sort()).toEqual([`rayts-arena-${process.pid}-cafe`]);
  });

  it('maps arenas larger than one segment as several buffers; views never cross a segment edge', () => {
    const page = loadNative().pageSize();
    const seg = 16 * page;
    const a = Arena.create({ size: seg * 2 + 4 * page, segmentSize: seg });
    arenas.push(a);
    expect(a.buffers.map((b) => b.byteLength)).toEqual([seg, seg, 4 * page]);
    expect(a.boundaries).toEqual([seg, seg * 2]);
    const v = a.view(seg + 64, 128);
    v.fill(9);
    expect(new Uint8Array(a.buffers[1]!, 64, 128).every((x) => x === 9)).toBe(true);
    expect(() => a.view(seg - 64, 128)).toThrow(/segment boundary/);
    expect(() => a.view(a.size - 10, 11)).toThrow(/outside/);
    const b = Arena.attach(a.procPath, a.size, { segmentSize: seg });
    arenas.push(b);
    expect(b.view(seg + 64, 128)[127]).toBe(9);
    expect(defaultSegmentSize()).toBeGreaterThanOrEqual(2 ** 31);
  });

  it('mappings stay readable after close (they live until garbage-collected)', () => {
    const a = Arena.create({ size: 64 * 1024 });
    const v = a.view(0, 64);
    v.fill(5);
    a.close();
    expect(v[63]).toBe(5);
    v[0] = 6;
    expect(v[0]).toBe(6);
  });

  it('madvise(DONTNEED) on a shared mapping keeps the data (it lives in the file)', () => {
    const a = Arena.create({ size: 1 * MiB });
    arenas.push(a);
    a.view(8192, 4096).fill(3);
    a.advise(8192, 4096, adviceConstants().MADV_DONTNEED!);
    expect(a.view(8192, 4096)[100]).toBe(3);
  });
});
