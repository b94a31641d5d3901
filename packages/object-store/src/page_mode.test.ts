import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Arena } from './arena.js';
import { HugePagesUnavailableError } from './errors.js';
import { HUGE_PAGE_BYTES, choosePageMode, hugetlbSize, parseHugePagesSetting, readHugePageFacts } from './page_mode.js';

const MiB = 1024 * 1024;
const none = { hugetlbFreeBytes: 0, shmemThp: false };

describe('choosePageMode', () => {
  it('auto takes hugetlb when enough pages are free, else shmem THP, else 4k', () => {
    expect(choosePageMode('auto', 64 * MiB, { hugetlbFreeBytes: 64 * MiB, shmemThp: true })).toBe('hugetlb');
    expect(choosePageMode('auto', 64 * MiB, { hugetlbFreeBytes: 62 * MiB, shmemThp: true })).toBe('thp');
    expect(choosePageMode('auto', 64 * MiB, none)).toBe('4k');
    // A named (group-shared) arena cannot be a memfd.
    expect(choosePageMode('auto', 64 * MiB, { hugetlbFreeBytes: 1024 * MiB, shmemThp: false }, true)).toBe('4k');
  });

  it('off is 4k whatever the host allows; on fails with what to do when no huge mode is possible', () => {
    expect(choosePageMode('off', 64 * MiB, { hugetlbFreeBytes: 1024 * MiB, shmemThp: true })).toBe('4k');
    expect(() => choosePageMode('on', 64 * MiB, none)).toThrow(HugePagesUnavailableError);
    expect(() => choosePageMode('on', 64 * MiB, none)).toThrow(/32/);
  });

  it('a hugetlb arena is a whole number of huge pages; settings parse', () => {
    expect(hugetlbSize(HUGE_PAGE_BYTES + 1)).toBe(2 * HUGE_PAGE_BYTES);
    expect(parseHugePagesSetting(' ON ')).toBe('on');
    expect(() => parseHugePagesSetting('yes')).toThrow(/auto, on, off/);
  });
});

describe('readHugePageFacts', () => {
  it('counts free unreserved 2 MiB pages and the shmem THP setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rayts-pagemode-'));
    try {
      writeFileSync(join(dir, 'meminfo'), 'HugePages_Total:     100\nHugePages_Free:       90\nHugePages_Rsvd:       40\nHugepagesize:       2048 kB\n');
      writeFileSync(join(dir, 'shmem'), 'always within_size [advise] never deny force\n');
      expect(readHugePageFacts(join(dir, 'meminfo'), join(dir, 'shmem'))).toEqual({ hugetlbFreeBytes: 50 * HUGE_PAGE_BYTES, shmemThp: true });
      writeFileSync(join(dir, 'shmem'), 'always within_size advise [never] deny force\n');
      expect(readHugePageFacts(join(dir, 'meminfo'), join(dir, 'shmem')).shmemThp).toBe(false);
      expect(readHugePageFacts(join(dir, 'missing'), join(dir, 'missing'))).toEqual(none);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Pages in use or promised (surplus ones included), from /proc/meminfo. */
function hugePagesTaken(): number {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const field = (name: string) => Number(new RegExp(`^HugePages_${name}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  return field('Total') - field('Free') + field('Rsvd');
}

/**
 * Runs the body with `pages` free 2 MiB pages that nobody has taken (root only), and puts the
 * host's setting back. Other test files start raylets at the same time, which take free huge pages
 * for their stores: when they took these first, the pool is grown again and the body retried.
 */
function withReservedHugePages<T>(pages: number, body: () => T): T {
  const path = '/proc/sys/vm/nr_hugepages';
  const old = readFileSync(path, 'utf8').trim();
  try {
    for (let attempt = 1; ; attempt++) {
      writeFileSync(path, String(Math.max(Number(old), hugePagesTaken()) + pages));
      try {
        return body();
      } catch (err) {
        if (!(err instanceof HugePagesUnavailableError) || attempt >= 20) throw err;
      }
    }
  } finally {
    writeFileSync(path, old);
  }
}

/**
 * Bytes this process maps with 2 MiB kernel pages, from its own /proc/self/smaps. (Not the rss
 * fields: some kernels leave Shared_Hugetlb at 0; the page size of each mapping is always there.)
 */
function hugePageMappedBytes(): number {
  let bytes = 0;
  for (const mapping of readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const size = /^Size:\s+(\d+) kB$/m.exec(mapping);
    if (size && /^KernelPageSize:\s+2048 kB$/m.test(mapping)) bytes += Number(size[1]) * 1024;
  }
  return bytes;
}

function roundTrip(arena: Arena): boolean {
  arena.view(3 * MiB, 4).set([1, 2, 3, 4]);
  const other = Arena.attach(arena.procPath, arena.size, { pageMode: arena.pageMode });
  try {
    const seen = [...other.view(3 * MiB, 4)];
    other.view(5 * MiB, 1)[0] = 9;
    return seen.join() === '1,2,3,4' && arena.view(5 * MiB, 1)[0] === 9;
  } finally {
    other.close();
  }
}

describe('Arena page modes', () => {
  it('off: 4 KiB tmpfs pages, shared between mappings, the mode reported', () => {
    const arena = Arena.create({ size: 8 * MiB, hugePages: 'off', prefault: true });
    try {
      expect(arena.pageMode).toBe('4k');
      expect(roundTrip(arena)).toBe(true);
    } finally {
      arena.close();
    }
  });

  it('on with no huge pages to be had fails at creation with HugePagesUnavailableError', () => {
    expect(() => Arena.create({ size: 8 * MiB, hugePages: 'on', hugePageFacts: none })).toThrow(HugePagesUnavailableError);
  });

  it('auto falls back to 4 KiB pages when the counted huge pages are gone by the time the store maps them; on refuses', () => {
    // As when another node on the host took them in between: the count says there are enough, the kernel has fewer.
    const size = readHugePageFacts().hugetlbFreeBytes + 64 * MiB;
    const counted = { hugetlbFreeBytes: size + 64 * MiB, shmemThp: false };
    const arena = Arena.create({ size, hugePages: 'auto', hugePageFacts: counted });
    try {
      expect(arena.pageMode).toBe('4k');
      expect(roundTrip(arena)).toBe(true);
    } finally {
      arena.close();
    }
    expect(() => Arena.create({ size, hugePages: 'on', hugePageFacts: counted })).toThrow(HugePagesUnavailableError);
  });

  it('hugetlb: reserved 2 MiB pages through a memfd, mapped by another mapping, reported', () => {
    const root = process.getuid?.() === 0;
    if (!root && readHugePageFacts().hugetlbFreeBytes < 8 * MiB) {
      // Without root, the test cannot reserve pages: on must then refuse rather than run on 4k.
      expect(() => Arena.create({ size: 8 * MiB, hugePages: 'on', hugePageFacts: { ...none, hugetlbFreeBytes: readHugePageFacts().hugetlbFreeBytes } })).toThrow(HugePagesUnavailableError);
      return;
    }
    const run = () => {
      const before = hugePageMappedBytes();
      const arena = Arena.create({ size: 8 * MiB - 100, hugePages: 'on', prefault: true });
      try {
        expect(arena.pageMode).toBe('hugetlb');
        expect(arena.size).toBe(8 * MiB);
        // The mapping is made of 2 MiB pages. (The host's free count is not compared: other test
        // files running at the same time take and give back huge pages.)
        expect(hugePageMappedBytes()).toBe(before + 8 * MiB);
        expect(roundTrip(arena)).toBe(true);
      } finally {
        arena.close();
      }
    };
    if (root) withReservedHugePages(4, run);
    else run();
  });
});
