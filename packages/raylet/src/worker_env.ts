/**
 * The environment workers start with. With `mallocHugePages`, glibc's malloc asks for transparent
 * huge pages on the large blocks it maps (glibc.malloc.hugetlb=1, glibc ≥ 2.35; ignored elsewhere):
 * a task that fills a fresh 80 MiB typed array then pays one first-touch fault per 2 MiB instead of
 * per 4 KiB (measured: reading a fresh 80 MiB array took 470-780 ms without, 16-45 ms with, on the
 * VM of docs/performance.md). It changes no host setting: THP must be enabled (madvise or always).
 */
const MALLOC_HUGE_PAGES = 'glibc.malloc.hugetlb=1';

export function workerEnv(base: NodeJS.ProcessEnv, mallocHugePages: boolean): NodeJS.ProcessEnv {
  if (!mallocHugePages) return base;
  const tunables = base.GLIBC_TUNABLES;
  if (tunables?.includes('glibc.malloc.hugetlb=')) return base; // the user chose
  return { ...base, GLIBC_TUNABLES: tunables ? `${tunables}:${MALLOC_HUGE_PAGES}` : MALLOC_HUGE_PAGES };
}
