/**
 * Which pages back the arena (`--object-store-huge-pages`, docs/performance.md "First touch and huge
 * pages"). On the VMs rayts was measured on, the first write to a 4 KiB page through a new mapping
 * costs ~30× a memcpy in every process that maps it, whatever populated it before; with 2 MiB pages
 * there is one such cost per 2 MiB, and a new mapping writes at about memcpy speed.
 *
 *   hugetlb  2 MiB pages the administrator reserved (vm.nr_hugepages), through memfd_create(MFD_HUGETLB)
 *   thp      the tmpfs file with MADV_HUGEPAGE, when transparent_hugepage/shmem_enabled allows it
 *   4k       ordinary tmpfs pages
 *
 * `auto` takes the first that this host allows; `on` fails at start when neither huge mode is
 * possible; `off` is 4k. rayts never changes the host's settings.
 */
import { readFileSync } from 'node:fs';
import { HugePagesUnavailableError } from './errors.js';

export type HugePagesSetting = 'auto' | 'on' | 'off';
export type PageMode = 'hugetlb' | 'thp' | '4k';
export const HUGE_PAGES_SETTINGS: readonly HugePagesSetting[] = ['auto', 'on', 'off'];
export const HUGE_PAGE_BYTES = 2 * 1024 * 1024;

/** What the host allows (read from /proc and /sys by `readHugePageFacts`). */
export interface HugePageFacts {
  /** Free and unreserved 2 MiB hugetlb pages × their size (HugePages_Free − HugePages_Rsvd of /proc/meminfo). */
  hugetlbFreeBytes: number;
  /** transparent_hugepage/shmem_enabled lets an madvise(MADV_HUGEPAGE) mapping of tmpfs have huge pages. */
  shmemThp: boolean;
}

export function readHugePageFacts(meminfoPath = '/proc/meminfo', shmemEnabledPath = '/sys/kernel/mm/transparent_hugepage/shmem_enabled'): HugePageFacts {
  let hugetlbFreeBytes = 0;
  try {
    const meminfo = readFileSync(meminfoPath, 'utf8');
    // A mapping reserves its pages at mmap and takes them at first touch: Rsvd are promised already.
    const free = Number(/HugePages_Free:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) - Number(/HugePages_Rsvd:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
    const sizeKb = Number(/Hugepagesize:\s+(\d+)\s*kB/.exec(meminfo)?.[1] ?? 0);
    // Only 2 MiB pages: memfd_create asks for MFD_HUGE_2MB.
    if (sizeKb * 1024 === HUGE_PAGE_BYTES) hugetlbFreeBytes = Math.max(0, free) * HUGE_PAGE_BYTES;
  } catch { /* not Linux: none */ }
  let shmemThp = false;
  try {
    const chosen = /\[([\w_]+)\]/.exec(readFileSync(shmemEnabledPath, 'utf8'))?.[1];
    shmemThp = chosen === 'advise' || chosen === 'always' || chosen === 'within_size' || chosen === 'force';
  } catch { /* no THP in this kernel */ }
  return { hugetlbFreeBytes, shmemThp };
}

/** The arena's size in hugetlb mode: whole huge pages. */
export function hugetlbSize(size: number): number {
  return Math.ceil(size / HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES;
}

/**
 * The mode for an arena of `size` bytes. `named`: the arena file must keep a name in the shm dir
 * (shared with a group), which a memfd has not, so hugetlb is out.
 */
export function choosePageMode(setting: HugePagesSetting, size: number, facts: HugePageFacts, named = false): PageMode {
  if (setting === 'off') return '4k';
  if (!named && facts.hugetlbFreeBytes >= hugetlbSize(size)) return 'hugetlb';
  if (facts.shmemThp) return 'thp';
  if (setting === 'on') {
    const pages = Math.ceil(size / HUGE_PAGE_BYTES);
    throw new HugePagesUnavailableError(
      `--object-store-huge-pages=on, but this host has ${Math.floor(facts.hugetlbFreeBytes / HUGE_PAGE_BYTES)} free 2 MiB huge pages ` +
        `(the ${size}-byte store needs ${pages}${named ? ', and a store shared with a group cannot use them' : ''}) ` +
        'and transparent huge pages for shared memory are off',
      `reserve them as root (sysctl -w vm.nr_hugepages=${pages}; see docs/operations.md "Huge pages"), ` +
        'or set /sys/kernel/mm/transparent_hugepage/shmem_enabled to advise, or start with --object-store-huge-pages=auto',
    );
  }
  return '4k';
}

export function parseHugePagesSetting(value: string): HugePagesSetting {
  const v = value.trim().toLowerCase();
  if ((HUGE_PAGES_SETTINGS as readonly string[]).includes(v)) return v as HugePagesSetting;
  throw new RangeError(`--object-store-huge-pages must be one of ${HUGE_PAGES_SETTINGS.join(', ')}, got '${value}'`);
}
