/**
 * How much memory the node uses, as the memory monitor reads it (Ray's MemoryMonitor): from the
 * cgroup the raylet runs in when that cgroup has a limit (a systemd unit with MemoryMax, a
 * container), else from the host's /proc/meminfo. As Ray does, the cgroup's page cache that the
 * kernel can drop at once (inactive_file) does not count as used.
 *
 * cgroup v2: /proc/self/cgroup has `0::<path>`, the files are /sys/fs/cgroup/<path>/memory.max
 * ("max" = no limit), memory.current and memory.stat (inactive_file). cgroup v1: the `memory`
 * controller's line gives the path under /sys/fs/cgroup/memory/, files memory.limit_in_bytes (a
 * huge number = no limit), memory.usage_in_bytes and memory.stat (total_inactive_file). In a
 * container without its own cgroup namespace the path named in /proc/self/cgroup is not mounted:
 * then the mount's root is the container's cgroup (where Ray always reads).
 */
import { readFileSync } from 'node:fs';

export type MemorySource = 'cgroup v2' | 'cgroup v1' | '/proc/meminfo';

export interface MemorySnapshot {
  usedBytes: number;
  totalBytes: number;
  source: MemorySource;
}

/** Reads a whole text file; undefined when it cannot be read. */
export interface TextFiles {
  read(path: string): string | undefined;
}

export const HOST_FILES: TextFiles = {
  read(path) {
    try { return readFileSync(path, 'utf8'); } catch { return undefined; }
  },
};

/** A v1 limit at or above this means "no limit" (the kernel reports ~2^63 rounded to pages). */
const V1_UNLIMITED = 2 ** 60;

/** MemTotal − MemAvailable of /proc/meminfo (kB in the file), or undefined when a field is missing. */
export function parseMeminfo(text: string): { usedBytes: number; totalBytes: number } | undefined {
  const kb = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (total === undefined || available === undefined || total <= 0) return undefined;
  return { usedBytes: Math.max(0, total - available), totalBytes: total };
}

/** The raylet's cgroup paths from /proc/self/cgroup: the v2 (unified) one and the v1 memory controller's. */
export function parseSelfCgroup(text: string): { v2?: string; v1Memory?: string } {
  const out: { v2?: string; v1Memory?: string } = {};
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, path] = m;
    if (id === '0' && controllers === '') out.v2 = path;
    else if (controllers!.split(',').includes('memory')) out.v1Memory = path;
  }
  return out;
}

/** One counter of a memory.stat file (bytes), 0 when absent. */
export function statField(text: string | undefined, field: string): number {
  if (!text) return 0;
  const m = new RegExp(`^${field} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function number(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** used = usage − inactive_file (never below 0), when the limit is real. */
function limited(limit: number | undefined, usage: number | undefined, inactive: number, source: MemorySource): MemorySnapshot | undefined {
  if (limit === undefined || usage === undefined || limit <= 0 || limit >= V1_UNLIMITED) return undefined;
  return { usedBytes: Math.max(0, usage - inactive), totalBytes: limit, source };
}

export class NodeMemoryReader {
  /** Where the cgroup's files are, found once (a process does not change cgroup under a raylet). */
  private readonly cgroup: { v2?: string; v1Memory?: string };

  constructor(private readonly files: TextFiles = HOST_FILES, private readonly root = '/sys/fs/cgroup') {
    this.cgroup = parseSelfCgroup(files.read('/proc/self/cgroup') ?? '');
  }

  /** The node's memory now; undefined only when neither a limited cgroup nor /proc/meminfo can be read. */
  read(): MemorySnapshot | undefined {
    return this.fromCgroupV2() ?? this.fromCgroupV1() ?? this.fromMeminfo();
  }

  /** The cgroup's own directory under `mount` if it is there, else the mount's root. */
  private dirOf(mount: string, path: string, probe: string): string {
    const own = `${mount}${path === '/' ? '' : path}`;
    return this.files.read(`${own}/${probe}`) !== undefined ? own : mount;
  }

  private fromCgroupV2(): MemorySnapshot | undefined {
    if (this.cgroup.v2 === undefined) return undefined;
    const dir = this.dirOf(this.root, this.cgroup.v2, 'memory.max');
    const max = this.files.read(`${dir}/memory.max`);
    if (max === undefined || max.trim() === 'max') return undefined;
    return limited(number(max), number(this.files.read(`${dir}/memory.current`)), statField(this.files.read(`${dir}/memory.stat`), 'inactive_file'), 'cgroup v2');
  }

  private fromCgroupV1(): MemorySnapshot | undefined {
    if (this.cgroup.v1Memory === undefined) return undefined;
    const dir = this.dirOf(`${this.root}/memory`, this.cgroup.v1Memory, 'memory.limit_in_bytes');
    return limited(number(this.files.read(`${dir}/memory.limit_in_bytes`)), number(this.files.read(`${dir}/memory.usage_in_bytes`)),
      statField(this.files.read(`${dir}/memory.stat`), 'total_inactive_file'), 'cgroup v1');
  }

  private fromMeminfo(): MemorySnapshot | undefined {
    const text = this.files.read('/proc/meminfo');
    const parsed = text ? parseMeminfo(text) : undefined;
    return parsed && { ...parsed, source: '/proc/meminfo' };
  }
}
