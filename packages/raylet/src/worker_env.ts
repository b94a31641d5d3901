/**
 * The environment workers start with. With `mallocHugePages`, glibc's malloc puts the large blocks
 * it maps (a fresh 80 MiB typed array) on huge pages (glibc ≥ 2.35; ignored elsewhere), so a task
 * pays one first-touch fault per 2 MiB instead of per 4 KiB. Measured on the VM of
 * docs/performance.md, a put of a fresh 80 MiB array: 80-680 ms with 4 KiB pages or THP
 * (glibc.malloc.hugetlb=1), ~30 ms with reserved huge pages (glibc.malloc.hugetlb=2), 6 ms for an
 * array already touched. hugetlb=2 is chosen when reserved pages are left over after the store
 * took its own (glibc falls back to ordinary pages when they run out); else THP. No host setting
 * changes.
 */
import { HUGE_PAGE_BYTES } from '@rayts/object-store';

/** Below this many spare reserved bytes, workers ask for THP instead of hugetlb pages. */
const MIN_SPARE_HUGETLB_BYTES = 64 * HUGE_PAGE_BYTES;

export function mallocHugePagesTunable(hugetlbSpareBytes: number): string {
  return `glibc.malloc.hugetlb=${hugetlbSpareBytes >= MIN_SPARE_HUGETLB_BYTES ? 2 : 1}`;
}

export function workerEnv(base: NodeJS.ProcessEnv, mallocHugePages: boolean, hugetlbSpareBytes: number): NodeJS.ProcessEnv {
  if (!mallocHugePages) return base;
  const tunables = base.GLIBC_TUNABLES;
  if (tunables?.includes('glibc.malloc.hugetlb=')) return base; // the user chose
  const ours = mallocHugePagesTunable(hugetlbSpareBytes);
  return { ...base, GLIBC_TUNABLES: tunables ? `${tunables}:${ours}` : ours };
}
