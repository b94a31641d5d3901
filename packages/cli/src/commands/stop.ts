/**
 * `rayts stop`: stops what this host's sessions started, by pid file and process group (raylet
 * first, head last), SIGKILL after the grace period. Without `--address` only this user's clusters
 * stop; another user's are left running and named (stop them with `--address` or `--all-users`, as
 * root or their owner). `--address` limits it to one cluster (`auto`: the one cluster this host
 * runs; several is a usage error), `--temp-dir` to one temp dir. It never looks at processes by name.
 */
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import {
  ClusterPermissionError, ClusterRecords, UsageError, defaultClustersDir, defaultRegistryDir, groupMembers, isAlive, isAutoAddress, liveDaemons,
  parseAddress, unregisterSession, SessionPaths, type Config, type ProcessRecord,
} from '@rayts/common';
import { stopProcesses, sweepWorkers } from '../stopper.js';
import { colors } from '../output.js';
import { hostClusters, localCluster, sameAddress, type HostCluster } from '../discovery.js';

export interface StopOptions {
  force?: boolean;
  gracePeriod?: string;
  address?: string;
  allUsers?: boolean;
  tempDir?: string;
}

/** The nodes to stop and the other users' clusters left running (one line each). */
function choose(clusters: HostCluster[], options: StopOptions): { targets: HostCluster[]; leftRunning: string[] } {
  if (options.address || options.allUsers) {
    return { targets: options.address ? clusters.filter((c) => sameAddress(c.address, options.address!)) : clusters, leftRunning: [] };
  }
  const left = new Map<string, HostCluster>();
  for (const c of clusters) if (c.foreign && ![...left.keys()].some((a) => sameAddress(a, c.address))) left.set(c.address, c);
  return {
    targets: clusters.filter((c) => !c.foreign),
    leftRunning: [...left.entries()].map(([a, c]) => `left the cluster of user ${c.owner.user} at ${a} running; stop it with --address ${a} or --all-users`),
  };
}

/** The daemons of a node; another user's need root (or that user) to read and signal. */
function daemonsOf(c: HostCluster): ProcessRecord[] {
  if (c.foreign) {
    try {
      accessSync(new SessionPaths(c.sessionDir).pids, fsConstants.R_OK | fsConstants.X_OK);
    } catch {
      throw new ClusterPermissionError(`cannot stop the cluster of user ${c.owner.user} at ${c.address}: its processes belong to ${c.owner.user} (session ${c.sessionDir})`,
        `run the stop as root (\`sudo rayts stop --address ${c.address}\`) or as ${c.owner.user}`);
    }
  }
  return liveDaemons(c.sessionDir);
}

export async function stopCommand(options: StopOptions, config: Config): Promise<number> {
  const grace = options.gracePeriod === undefined ? config.stopGracePeriodS : Number(options.gracePeriod);
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--grace-period must be a number of seconds ≥ 0, got '${options.gracePeriod}'`);
  if (options.allUsers && options.address) throw new UsageError('--all-users and --address exclude each other', 'use --address HOST:PORT for one cluster, --all-users for every cluster of this host');
  const clusters = hostClusters(config, options.tempDir);
  if (isAutoAddress(options.address)) {
    // Nothing running is fine for stop (as without --address); several clusters must be told apart.
    options = { ...options, address: clusters.length > 0 ? localCluster(clusters, options.tempDir, '--address=auto').address : undefined };
  } else if (options.address) {
    parseAddress(options.address);
  }
  const { targets, leftRunning } = choose(clusters, options);
  const c = colors();
  const tellLeft = () => { for (const line of leftRunning) process.stdout.write(c.yellow(`Note: ${line}.`) + '\n'); };
  const records = targets.flatMap(daemonsOf);
  if (records.length === 0) {
    process.stdout.write(`Did not find any active rayts processes${options.address ? ` of the cluster at ${options.address}` : ''}${options.tempDir ? ` under ${options.tempDir}` : ''}.\n`);
    tellLeft();
    return 0;
  }
  const total = records.length;
  const result = await stopProcesses(records, grace * 1000, !!options.force);
  // Workers whose raylet could not stop them (it was killed) go last.
  for (const t of targets) await sweepWorkers(t.sessionDir);
  const registry = defaultRegistryDir(config.registryDir);
  const record = new ClusterRecords(defaultClustersDir(config.clustersDir));
  for (const t of targets) {
    if (liveDaemons(t.sessionDir).length === 0) {
      unregisterSession(registry, t.sessionDir);
      record.withdraw(t.sessionDir);
      rmSync(new SessionPaths(t.sessionDir).headReady, { force: true });
      rmSync(new SessionPaths(t.sessionDir).rayletReady, { force: true });
    }
  }
  if (result.killed.length > 0 && !options.force) {
    const names = result.killed.map((r) => `${r.name} (pid ${r.pid})`).join(', ');
    process.stdout.write(c.yellow(`Stopped only ${total - result.killed.length} out of ${total} rayts processes within the grace period ${grace} s; `
      + `force-killed: ${names}.\nUse --force to skip the grace period, or a longer --grace-period.\n`));
  } else {
    process.stdout.write(c.green(`Stopped all ${total} rayts processes`) + ` (${targets.length} session${targets.length === 1 ? '' : 's'}).\n`);
  }
  tellLeft();
  const leftovers = records.filter((r) => isAlive(r) || (r.pgid === r.pid && groupMembers(r.pgid).length > 0));
  if (leftovers.length > 0 && targets.some((t) => t.foreign) && leftovers.every((r) => !signalable(r.pid))) {
    throw new ClusterPermissionError(`could not signal the processes of another user's cluster (${leftovers.map((r) => `${r.name} pid ${r.pid}`).join(', ')})`,
      'run the stop as root or as the cluster\'s owner');
  }
  return leftovers.length === 0 ? 0 : 1;
}

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EPERM';
  }
}
