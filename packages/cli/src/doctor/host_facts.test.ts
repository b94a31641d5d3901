import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMemInfo, parseOpenFilesLimit, readSystemd } from './host_facts.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('host facts', () => {
  it('parses /proc/meminfo', () => {
    const text = 'MemTotal:       32768000 kB\nMemFree:  100 kB\nHugePages_Total:      16\nHugepagesize:       2048 kB\n';
    expect(parseMemInfo(text)).toEqual({ memTotalBytes: 32768000 * 1024, hugePagesTotal: 16, hugePageSizeBytes: 2048 * 1024 });
    expect(parseMemInfo('garbage')).toBeUndefined();
  });

  it('parses the open-files line of /proc/self/limits, unlimited included', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    expect(parseOpenFilesLimit(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseOpenFilesLimit('Max open files            unlimited            unlimited            files')).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseOpenFilesLimit('')).toBeUndefined();
  });

  it('finds installed rayts units; without systemd running it does not ask systemctl', () => {
    const root = mkdtempSync(join(tmpdir(), 'doctor-systemd-'));
    dirs.push(root);
    const etc = join(root, 'etc');
    mkdirSync(etc);
    writeFileSync(join(etc, 'rayts-head.service'), '[Unit]\n');
    writeFileSync(join(etc, 'other.service'), '[Unit]\n');
    expect(readSystemd([etc, join(root, 'missing')], join(root, 'run-systemd'))).toEqual({
      running: false, units: [{ name: 'rayts-head.service', path: join(etc, 'rayts-head.service'), activeState: undefined }],
    });
    expect(readSystemd([join(root, 'missing')], join(root, 'run-systemd'))).toEqual({ running: false, units: [] });
  });
});
