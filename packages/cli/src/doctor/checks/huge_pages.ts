/**
 * Memory reserved as huge pages is taken from everything else. The object store runs on them when they
 * cover it (--object-store-huge-pages, auto by default); beyond what the stores use, they are wasted.
 */
import { formatBytes } from '@rayts/common';
import type { Check, Finding } from '../types.js';

/** Reserving more than this share of memory as huge pages is worth a warning. */
const RESERVED_SHARE_WARN = 0.1;

export const hugePagesCheck: Check = {
  name: 'huge pages',
  run({ memInfo }): Finding[] {
    const base = { check: 'huge pages', scope: 'this host' };
    if (!memInfo) return [{ ...base, status: 'skip', finding: 'cannot read /proc/meminfo', fix: '' }];
    const reserved = memInfo.hugePagesTotal * memInfo.hugePageSizeBytes;
    if (reserved === 0) return [{ ...base, status: 'ok', finding: 'none reserved (the object store uses ordinary pages of its tmpfs; large objects are faster on huge pages: docs/operations.md "Huge pages")', fix: '' }];
    const text = `${memInfo.hugePagesTotal} huge pages reserve ${formatBytes(reserved)} of ${formatBytes(memInfo.memTotalBytes)}; an object store runs on them when they cover it`;
    return reserved > memInfo.memTotalBytes * RESERVED_SHARE_WARN
      ? [{ ...base, status: 'warn', finding: text, fix: 'size vm.nr_hugepages to the object stores of this host (--object-store-memory / 2 MiB), no more: other programs cannot use them' }]
      : [{ ...base, status: 'ok', finding: text, fix: '' }];
  },
};
