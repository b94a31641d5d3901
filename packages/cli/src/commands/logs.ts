/**
 * `rayts logs [GLOB]`: lists a node's log files (asked of that node's raylet over gRPC), or prints /
 * follows the one file that matches. Files are named by the listing, never by a client path.
 */
import { GcsClient, RayletClient, UsageError, RaytsError, type Config, type NodeInfo__Output, type LogFile__Output } from '@rayts/common';
import { resolveTarget, type TargetOptions } from '../discovery.js';
import { printJson } from '../output.js';

export interface LogsOptions extends TargetOptions {
  nodeId?: string;
  nodeIp?: string;
  follow?: boolean;
  tail: string;
  json?: boolean;
}

function pickNode(nodes: NodeInfo__Output[], options: LogsOptions): NodeInfo__Output {
  if (options.nodeId) {
    const matches = nodes.filter((n) => n.nodeId.startsWith(options.nodeId!.replace(/^node_/, '')));
    if (matches.length !== 1) throw new UsageError(`${matches.length === 0 ? 'no' : 'several'} alive nodes match --node-id ${options.nodeId}`, 'list them with `rayts status -v`');
    return matches[0]!;
  }
  if (options.nodeIp) {
    const matches = nodes.filter((n) => n.nodeIp === options.nodeIp);
    if (matches.length === 0) throw new UsageError(`no alive node has IP ${options.nodeIp}`, 'list them with `rayts status -v`');
    if (matches.length > 1) throw new UsageError(`several nodes have IP ${options.nodeIp}`, 'choose one with --node-id');
    return matches[0]!;
  }
  const head = nodes.find((n) => n.isHead) ?? nodes[0];
  if (!head) throw new RaytsError('the cluster has no alive node');
  return head;
}

function renderListing(nodeIp: string, files: LogFile__Output[]): string {
  const byCategory = new Map<string, string[]>();
  for (const f of files) byCategory.set(f.category, [...(byCategory.get(f.category) ?? []), f.name]);
  const lines = [`Node IP: ${nodeIp}`];
  for (const [category, names] of [...byCategory.entries()].sort()) {
    lines.push(`${category}:`, ...names.map((n) => `- ${n}`));
  }
  if (files.length === 0) lines.push('(no log files match)');
  return lines.join('\n') + '\n';
}

export async function logsCommand(glob: string | undefined, options: LogsOptions, config: Config): Promise<number> {
  const tail = Number(options.tail);
  if (!Number.isInteger(tail) || tail < -1) throw new UsageError(`--tail must be a number of lines, or -1 for the whole file; got '${options.tail}'`);
  const target = resolveTarget(options, config);
  const clientOptions = { token: target.token, tls: target.tls, timeoutMs: config.gcsRpcTimeoutMs };
  const gcs = new GcsClient(target.address, clientOptions);
  let node: NodeInfo__Output;
  try {
    node = pickNode(await gcs.listNodes(false), options);
  } finally {
    gcs.close();
  }
  const raylet = new RayletClient(`${node.nodeIp}:${node.rayletPort}`, clientOptions);
  try {
    const listing = await raylet.listLogs(glob ?? '');
    if (!glob || listing.files.length !== 1) {
      if (options.json) printJson({ nodeId: listing.nodeId, nodeIp: listing.nodeIp, files: listing.files });
      else process.stdout.write(renderListing(listing.nodeIp, listing.files));
      return glob && listing.files.length === 0 ? 1 : 0;
    }
    const name = listing.files[0]!.name;
    const stream = raylet.streamLog({ name, tail, follow: !!options.follow }, (chunk) => {
      if (chunk.truncated) process.stderr.write(`--- Log has been truncated to the last ${tail} lines. Use \`--tail\` to change this. ---\n`);
      process.stdout.write(chunk.data);
    });
    const stop = () => stream.cancel();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await stream.done;
    return 0;
  } finally {
    raylet.close();
  }
}
