/** Memory reserved as huge pages is taken from everything else, the object store's tmpfs included. */
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
    if (reserved === 0) return [{ ...base, status: 'ok', finding: 'none reserved (the object store uses ordinary pages of its tmpfs)', fix: '' }];
    const text = `${memInfo.hugePagesTotal} huge pages reserve ${formatBytes(reserved)} of ${formatBytes(memInfo.memTotalBytes)}; the object store cannot use them`;
    return reserved > memInfo.memTotalBytes * RESERVED_SHARE_WARN
      ? [{ ...base, status: 'warn', finding: text, fix: 'lower vm.nr_hugepages (sysctl) unless another program on this host needs them' }]
      : [{ ...base, status: 'ok', finding: text, fix: '' }];
  },
};
