/**
 * `rayts stop`: stops what this host's sessions started, by pid file and process group (raylet
 * first, head last), SIGKILL after the grace period. `--address` limits it to one cluster, `--temp-dir`
 * to one temp dir (`--address auto`: the one cluster this host runs; several is a usage error). It never looks at processes by name, so another user's cluster is never touched.
 */
import { rmSync } from 'node:fs';
import {
  UsageError, defaultRegistryDir, groupMembers, isAlive, isAutoAddress, liveDaemons, liveSessions, parseAddress, sessionGcsAddress, unregisterSession, SessionPaths, type Config,
} from '@rayts/common';
import { stopProcesses, sweepWorkers } from '../stopper.js';
import { colors } from '../output.js';
import { localCluster } from '../discovery.js';

export interface StopOptions {
  force?: boolean;
  gracePeriod?: string;
  address?: string;
  tempDir?: string;
}

export async function stopCommand(options: StopOptions, config: Config): Promise<number> {
  const grace = options.gracePeriod === undefined ? config.stopGracePeriodS : Number(options.gracePeriod);
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--grace-period must be a number of seconds ≥ 0, got '${options.gracePeriod}'`);
  let sessions = liveSessions(config, options.tempDir);
  if (isAutoAddress(options.address)) {
    // Nothing running is fine for stop (as without --address); several clusters must be told apart.
    if (sessions.length > 0) options = { ...options, address: localCluster(sessions, options.tempDir, '--address=auto').address };
    else options = { ...options, address: undefined };
  } else if (options.address) {
    parseAddress(options.address);
  }
  if (options.address) sessions = sessions.filter((s) => sessionGcsAddress(s) === options.address || s.gcsAddress === options.address);
  const c = colors();
  if (sessions.length === 0) {
    process.stdout.write(`Did not find any active rayts processes${options.address ? ` of the cluster at ${options.address}` : ''}${options.tempDir ? ` under ${options.tempDir}` : ''}.\n`);
    return 0;
  }
  const records = sessions.flatMap((s) => liveDaemons(s.sessionDir));
  const total = records.length;
  const result = await stopProcesses(records, grace * 1000, !!options.force);
  // Workers whose raylet could not stop them (it was killed) go last.
  for (const s of sessions) await sweepWorkers(s.sessionDir);
  const registry = defaultRegistryDir(config.registryDir);
  for (const s of sessions) {
    if (liveDaemons(s.sessionDir).length === 0) {
      unregisterSession(registry, s.sessionDir);
      rmSync(new SessionPaths(s.sessionDir).headReady, { force: true });
      rmSync(new SessionPaths(s.sessionDir).rayletReady, { force: true });
    }
  }
  if (result.killed.length > 0 && !options.force) {
    const names = result.killed.map((r) => `${r.name} (pid ${r.pid})`).join(', ');
    process.stdout.write(c.yellow(`Stopped only ${total - result.killed.length} out of ${total} rayts processes within the grace period ${grace} s; `
      + `force-killed: ${names}.\nUse --force to skip the grace period, or a longer --grace-period.\n`));
  } else {
    process.stdout.write(c.green(`Stopped all ${total} rayts processes`) + ` (${sessions.length} session${sessions.length === 1 ? '' : 's'}).\n`);
  }
  const leftovers = records.filter((r) => isAlive(r) || (r.pgid === r.pid && groupMembers(r.pgid).length > 0));
  return leftovers.length === 0 ? 0 : 1;
}
