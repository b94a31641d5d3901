import { describe, expect, it } from 'vitest';
import { workerEnv } from './worker_env.js';

const MiB = 1024 * 1024;

describe('workerEnv', () => {
  it('asks glibc for reserved huge pages when some are spare, else THP, and keeps the user\'s tunables', () => {
    expect(workerEnv({ A: '1' }, true, 1024 * MiB).GLIBC_TUNABLES).toBe('glibc.malloc.hugetlb=2');
    expect(workerEnv({}, true, 0).GLIBC_TUNABLES).toBe('glibc.malloc.hugetlb=1');
    expect(workerEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, true, 0).GLIBC_TUNABLES).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
    expect(workerEnv({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }, true, 1024 * MiB).GLIBC_TUNABLES).toBe('glibc.malloc.hugetlb=0');
    expect(workerEnv({ A: '1' }, false, 1024 * MiB)).toEqual({ A: '1' });
  });
});
