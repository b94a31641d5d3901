/** Facts about this host read from /proc, statfs, stat and systemd; the parsers take text so tests feed them samples. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileFact, MemInfo, OpenFilesLimit, SpaceFact, SystemdFact } from './types.js';

/** /proc/meminfo → total memory and the reserved huge pages. */
export function parseMemInfo(text: string): MemInfo | undefined {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const total = kb('MemTotal');
  if (total === undefined) return undefined;
  return { memTotalBytes: total * 1024, hugePagesTotal: kb('HugePages_Total') ?? 0, hugePageSizeBytes: (kb('Hugepagesize') ?? 2048) * 1024 };
}

/** The "Max open files" line of /proc/<pid>/limits. */
export function parseOpenFilesLimit(text: string): OpenFilesLimit | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  const num = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: num(m[1]!), hard: num(m[2]!) };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function readMemInfo(): MemInfo | undefined {
  const text = readText('/proc/meminfo');
  return text === undefined ? undefined : parseMemInfo(text);
}

export function readOpenFilesLimit(pid: number | 'self' = 'self'): OpenFilesLimit | undefined {
  const text = readText(`/proc/${pid}/limits`);
  return text === undefined ? undefined : parseOpenFilesLimit(text);
}

export function spaceOf(dir: string): SpaceFact | undefined {
  try {
    const s = statfsSync(dir);
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  } catch {
    return undefined;
  }
}

export function fileFact(path: string, expectedUid: number): FileFact | undefined {
  try {
    const s = statSync(path);
    return { path, mode: s.mode & 0o7777, uid: s.uid, expectedUid };
  } catch {
    return undefined;
  }
}

export const SYSTEMD_UNIT_DIRS = ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

/** The installed rayts units, and their state when systemd runs (it runs when /run/systemd/system exists). */
export function readSystemd(unitDirs = SYSTEMD_UNIT_DIRS, runDir = '/run/systemd/system'): SystemdFact {
  const running = existsSync(runDir);
  const seen = new Set<string>();
  const units: SystemdFact['units'] = [];
  for (const dir of unitDirs) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/^rayts[\w@.-]*\.service$/.test(name) || seen.has(name)) continue;
      seen.add(name);
      units.push({ name, path: join(dir, name), activeState: running ? isActive(name) : undefined });
    }
  }
  return { running, units };
}

function isActive(unit: string): string {
  try {
    return execFileSync('systemctl', ['is-active', unit], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (err) {
    // is-active exits non-zero for inactive/failed units and still prints the state.
    const out = (err as { stdout?: string }).stdout?.trim();
    return out || 'unknown';
  }
}
