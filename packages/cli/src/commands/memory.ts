/** `rayts memory`: object references of every process on every alive node, and store figures. */
import { GcsClient, RayletClient, UsageError, type Config, type NodeStats__Output } from '@rayts/common';
import { resolveTarget, type TargetOptions } from '../discovery.js';
import { printJson } from '../output.js';
import { renderMemory, type GroupBy, type SortBy, type Units } from '../memory_format.js';

export interface MemoryCommandOptions extends TargetOptions {
  groupBy: string;
  sortBy: string;
  units: string;
  statsOnly?: boolean;
  json?: boolean;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  const v = value.toLowerCase().replace('_', '-') as T;
  const match = allowed.find((a) => a.toLowerCase() === v.toLowerCase() || (flag === '--group-by' && v === 'node-address' && a === 'node'));
  if (!match) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  return match;
}

export async function memoryCommand(options: MemoryCommandOptions, config: Config): Promise<number> {
  const groupBy = oneOf<GroupBy>(options.groupBy, ['node', 'stack-trace'], '--group-by');
  const sortBy = oneOf<SortBy>(options.sortBy, ['object-size', 'pid', 'reference-type'], '--sort-by');
  const units = oneOf<Units>(options.units.toUpperCase(), ['B', 'KB', 'MB', 'GB'], '--units');
  const target = resolveTarget(options, config);
  const clientOptions = { token: target.token, tls: target.tls, timeoutMs: config.gcsRpcTimeoutMs };
  const gcs = new GcsClient(target.address, clientOptions);
  let nodes;
  try {
    nodes = await gcs.listNodes(false);
  } finally {
    gcs.close();
  }
  const stats: NodeStats__Output[] = [];
  await Promise.all(nodes.map(async (n) => {
    const raylet = new RayletClient(`${n.nodeIp}:${n.rayletPort}`, clientOptions);
    try {
      stats.push(await raylet.getNodeStats({ memoryInfo: !options.statsOnly }));
    } catch (err) {
      process.stderr.write(`warning: node ${n.nodeIp} did not answer: ${(err as Error).message}\n`);
    } finally {
      raylet.close();
    }
  }));
  stats.sort((a, b) => (a.nodeIp < b.nodeIp ? -1 : 1));
  if (options.json) printJson(stats.map((s) => ({ nodeId: s.nodeId, nodeIp: s.nodeIp, store: s.store, refs: s.refs })));
  else process.stdout.write(renderMemory(stats, { groupBy, sortBy, units, statsOnly: !!options.statsOnly }));
  return 0;
}
