/**
 * Stopping processes by record (pid + start time) and process group, in buckets: raylets first
 * (so their workers go with them), heads next, supervisors last, as `ray stop` orders it. Each bucket
 * gets a third of the grace period after SIGTERM; survivors, and anything left in their groups,
 * get SIGKILL.
 */
import { groupMembers, isAlive, pollUntil, signalGroup, type ProcessRecord } from '@rayts/common';

export interface StopResult {
  stopped: ProcessRecord[];
  killed: ProcessRecord[];
}

const BUCKETS = [['raylet'], ['gcs_server'], ['supervisor']];

function groupGone(r: ProcessRecord): boolean {
  return !isAlive(r) && groupMembers(r.pgid).length === 0;
}

export async function stopProcesses(records: ProcessRecord[], graceMs: number, force: boolean): Promise<StopResult> {
  const result: StopResult = { stopped: [], killed: [] };
  for (const names of BUCKETS) {
    const bucket = records.filter((r) => names.includes(r.name) || (names[0] === 'supervisor' && !BUCKETS.flat().includes(r.name)));
    if (bucket.length === 0) continue;
    for (const r of bucket) if (isAlive(r)) signalGroup(r.pgid, force ? 'SIGKILL' : 'SIGTERM');
    await pollUntil(() => bucket.every(groupGone), force ? 2000 : graceMs / 3, 25);
    for (const r of bucket) {
      if (groupGone(r)) {
        result.stopped.push(r);
        continue;
      }
      signalGroup(r.pgid, 'SIGKILL');
      result.killed.push(r);
    }
    await pollUntil(() => bucket.every(groupGone), 2000, 25);
  }
  return result;
}
