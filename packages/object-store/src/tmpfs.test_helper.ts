/** Test helper: mounting a small tmpfs (needs root); `canMount` says whether this machine allows it. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tryMountTmpfs(dir: string, size: string): true | 'EPERM' {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch (err) {
    const text = String((err as { stderr?: Buffer }).stderr ?? '') + String((err as Error).message);
    if (/permission denied|operation not permitted|must be superuser|EPERM/i.test(text)) return 'EPERM';
    throw err;
  }
}

/** Probes once whether a tmpfs can be mounted here. */
export function probeTmpfsMount(): boolean {
  const probeDir = mkdtempSync(join(tmpdir(), 'rayts-tmpfs-probe-'));
  const ok = tryMountTmpfs(probeDir, '1m') === true;
  if (ok) execFileSync('umount', [probeDir]);
  rmSync(probeDir, { recursive: true, force: true });
  return ok;
}

/** Unmounts every mount point in `mounts` (lazily when busy) and empties the list. */
export function unmountAll(mounts: string[]): void {
  for (const m of mounts.splice(0)) {
    try {
      execFileSync('umount', [m], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', m], { stdio: 'pipe' });
    }
  }
}
