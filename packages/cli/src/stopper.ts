/**
 * Stopping processes by record (pid + start time) and process group, in buckets: raylets first
 * (so their workers go with them), heads next, supervisors last, as `ray stop` orders it. Each bucket
 * gets a third of the grace period after SIGTERM; survivors, and anything left in their groups,
 * get SIGKILL.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SessionPaths, readJson, groupMembers, isAlive, pollUntil, signalGroup, signalProcess, type ProcessRecord } from '@rayts/common';

export interface StopResult {
  stopped: ProcessRecord[];
  killed: ProcessRecord[];
}

const BUCKETS = [['raylet'], ['gcs_server'], ['supervisor']];

/**
 * Daemons lead their own process group, so the whole group is signalled. A supervisor (`--block`)
 * may sit in its caller's group (a shell job, a test runner): only the process itself is signalled.
 */
function ownsGroup(r: ProcessRecord): boolean {
  return r.pgid === r.pid;
}

function signal(r: ProcessRecord, sig: NodeJS.Signals): void {
  if (ownsGroup(r)) signalGroup(r.pgid, sig);
  else signalProcess(r.pid, sig);
}

function groupGone(r: ProcessRecord): boolean {
  return !isAlive(r) && (!ownsGroup(r) || groupMembers(r.pgid).length === 0);
}

export async function stopProcesses(records: ProcessRecord[], graceMs: number, force: boolean): Promise<StopResult> {
  const result: StopResult = { stopped: [], killed: [] };
  for (const names of BUCKETS) {
    const bucket = records.filter((r) => names.includes(r.name) || (names[0] === 'supervisor' && !BUCKETS.flat().includes(r.name)));
    if (bucket.length === 0) continue;
    for (const r of bucket) if (isAlive(r)) signal(r, force ? 'SIGKILL' : 'SIGTERM');
    await pollUntil(() => bucket.every(groupGone), force ? 2000 : graceMs / 3, 25);
    for (const r of bucket) {
      if (groupGone(r)) {
        result.stopped.push(r);
        continue;
      }
      signal(r, 'SIGKILL');
      result.killed.push(r);
    }
    await pollUntil(() => bucket.every(groupGone), 2000, 25);
  }
  return result;
}

/** Worker records the raylet keeps under pids/workers/ (it removes each when the worker exits). */
export function workerRecords(sessionDir: string): ProcessRecord[] {
  const dir = join(new SessionPaths(sessionDir).pids, 'workers');
  try {
    return readdirSync(dir)
      .map((f) => readJson<ProcessRecord>(join(dir, f)))
      .filter((r): r is ProcessRecord => !!r && isAlive(r));
  } catch {
    return [];
  }
}

/**
 * Kills the worker groups a raylet left behind (it was SIGKILLed and could not stop them; they would
 * also go by themselves when they notice, but `stop` must not return before they are gone).
 */
export async function sweepWorkers(sessionDir: string): Promise<void> {
  const workers = workerRecords(sessionDir);
  for (const w of workers) signal(w, 'SIGKILL');
  await pollUntil(() => workers.every(groupGone), 2000, 25);
}
