/**
 * The host's memory as a resource some tests need to themselves: the memory monitor's tests set the
 * node's threshold just above the memory in use when they start, and the 4 GiB round trip of a
 * remote driver takes about 13 GiB while it runs, which would push those tests' nodes over their
 * threshold. Each takes this lock first, so they never overlap (vitest runs test files two at a time,
 * in separate processes). A lock directory (mkdir is atomic) holds its owner's pid; one whose owner
 * is gone is taken over. Waiting polls with a deadline.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '@rayts/common';
import { alive } from './cluster.js';

const LOCK = join(tmpdir(), 'rayts-test-host-memory.lock');

function tryTake(): boolean {
  try {
    mkdirSync(LOCK);
  } catch {
    let owner = NaN;
    try { owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8')); } catch { /* being written or removed */ }
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
  writeFileSync(join(LOCK, 'pid'), String(process.pid));
  return true;
}

/** Waits until this test process holds the host's memory; returns the release. */
export async function acquireHostMemory(timeoutMs = 600_000): Promise<() => void> {
  if (!(await pollUntil(tryTake, timeoutMs, 200))) throw new Error(`another test held the host's memory (${LOCK}) for more than ${timeoutMs / 1000} s`);
  return () => rmSync(LOCK, { recursive: true, force: true });
}
