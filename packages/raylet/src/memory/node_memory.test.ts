/** NodeMemoryReader: cgroup v2, cgroup v1 (own path or the mount's root), /proc/meminfo, from sample file contents. */
import { describe, expect, it } from 'vitest';
import { NodeMemoryReader, parseMeminfo, parseSelfCgroup, statField, type TextFiles } from './node_memory.js';

const GIB = 1024 ** 3;

const MEMINFO = `MemTotal:       24683784 kB
MemFree:        19944672 kB
MemAvailable:   22907656 kB
Buffers:          123456 kB
`;

function files(map: Record<string, string>): TextFiles {
  return { read: (path) => map[path] };
}

describe('parsing', () => {
  it('reads MemTotal − MemAvailable from /proc/meminfo', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ totalBytes: 24683784 * 1024, usedBytes: (24683784 - 22907656) * 1024 });
    expect(parseMeminfo('MemTotal: 10 kB\n')).toBeUndefined();
  });

  it('finds the v2 path and the v1 memory controller\'s path in /proc/self/cgroup', () => {
    expect(parseSelfCgroup('0::/system.slice/rayts-worker.service\n')).toEqual({ v2: '/system.slice/rayts-worker.service' });
    expect(parseSelfCgroup('9:name=systemd:/\n4:memory:/process_api/f82\n3:cpu,cpuacct:/\n0::/\n')).toEqual({ v1Memory: '/process_api/f82', v2: '/' });
    expect(parseSelfCgroup('')).toEqual({});
  });

  it('reads one counter of memory.stat', () => {
    const stat = 'anon 100\nfile 300\ninactive_file 200\nactive_file 100\n';
    expect(statField(stat, 'inactive_file')).toBe(200);
    expect(statField(stat, 'total_inactive_file')).toBe(0);
    expect(statField(undefined, 'inactive_file')).toBe(0);
  });
});

describe('NodeMemoryReader', () => {
  it('cgroup v2 with a limit: memory.current − inactive_file of memory.max', () => {
    const dir = '/sys/fs/cgroup/system.slice/rayts-worker.service';
    const reader = new NodeMemoryReader(files({
      '/proc/self/cgroup': '0::/system.slice/rayts-worker.service\n',
      [`${dir}/memory.max`]: `${4 * GIB}\n`, [`${dir}/memory.current`]: `${3 * GIB}\n`, [`${dir}/memory.stat`]: `anon 1\ninactive_file ${GIB}\n`,
      '/proc/meminfo': MEMINFO,
    }));
    expect(reader.read()).toEqual({ usedBytes: 2 * GIB, totalBytes: 4 * GIB, source: 'cgroup v2' });
  });

  it('cgroup v2 without a limit ("max") falls back to /proc/meminfo', () => {
    const reader = new NodeMemoryReader(files({
      '/proc/self/cgroup': '0::/user.slice\n', '/sys/fs/cgroup/user.slice/memory.max': 'max\n', '/sys/fs/cgroup/user.slice/memory.current': '5\n', '/proc/meminfo': MEMINFO,
    }));
    expect(reader.read()?.source).toBe('/proc/meminfo');
    expect(reader.read()?.totalBytes).toBe(24683784 * 1024);
  });

  it('cgroup v1: its own directory when mounted, minus total_inactive_file', () => {
    const dir = '/sys/fs/cgroup/memory/docker/abc';
    const reader = new NodeMemoryReader(files({
      '/proc/self/cgroup': '4:memory:/docker/abc\n', [`${dir}/memory.limit_in_bytes`]: `${2 * GIB}\n`,
      [`${dir}/memory.usage_in_bytes`]: `${GIB + 4096}\n`, [`${dir}/memory.stat`]: 'cache 8192\ntotal_inactive_file 4096\n', '/proc/meminfo': MEMINFO,
    }));
    expect(reader.read()).toEqual({ usedBytes: GIB, totalBytes: 2 * GIB, source: 'cgroup v1' });
  });

  it('cgroup v1 in a container whose path is not mounted: the mount\'s root; a huge limit means none', () => {
    const root = '/sys/fs/cgroup/memory';
    const limitedReader = new NodeMemoryReader(files({
      '/proc/self/cgroup': '4:memory:/process_api/f82\n', [`${root}/memory.limit_in_bytes`]: `${8 * GIB}\n`, [`${root}/memory.usage_in_bytes`]: `${GIB}\n`, '/proc/meminfo': MEMINFO,
    }));
    expect(limitedReader.read()).toEqual({ usedBytes: GIB, totalBytes: 8 * GIB, source: 'cgroup v1' });
    const unlimited = new NodeMemoryReader(files({
      '/proc/self/cgroup': '4:memory:/process_api/f82\n', [`${root}/memory.limit_in_bytes`]: '9223372036854771712\n', [`${root}/memory.usage_in_bytes`]: `${GIB}\n`, '/proc/meminfo': MEMINFO,
    }));
    expect(unlimited.read()?.source).toBe('/proc/meminfo');
  });

  it('nothing readable: undefined', () => {
    expect(new NodeMemoryReader(files({})).read()).toBeUndefined();
  });

  it('reads this host', () => {
    const now = new NodeMemoryReader().read();
    expect(now!.totalBytes).toBeGreaterThan(0);
    expect(now!.usedBytes).toBeGreaterThan(0);
    expect(now!.usedBytes).toBeLessThanOrEqual(now!.totalBytes);
  });
});
