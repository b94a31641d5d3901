/**
 * What the state API reads, in the head process: the GCS's own tables and managers (never the
 * SQLite file a second time) and, for objects and workers, each alive node's raylet.
 */
import type { ListLogsReply__Output, LogChunk__Output, NodeStats__Output, StreamLogRequest } from '@rayts/common';
import type { ActorRecord, JobDetails, LiveNode, NodeRecord, PlacementGroup } from '@rayts/gcs';
import type { TaskAttempt, TaskEventStats } from '@rayts/gcs';

export interface StateSources {
  /** Alive nodes with their live view, then the dead ones the head still keeps. */
  nodes(): { record: NodeRecord; live?: LiveNode }[];
  actors(): ActorRecord[];
  placementGroups(): PlacementGroup[];
  /** Every job the head keeps: submissions and drivers started by hand, oldest first. */
  jobs(): JobDetails[];
  /** One job by submission id or by its driver's job id. */
  job(id: string): JobDetails | undefined;
  taskAttempts(): Iterable<TaskAttempt>;
  /** The attempts of one task (without reading the others). */
  taskAttemptsOf(taskId: string): TaskAttempt[];
  taskEventStats(): TaskEventStats;
  /** One alive node's stats from its raylet, within the deadline. */
  nodeStats(node: NodeRecord, include: { memoryInfo?: boolean; workers?: boolean }, timeoutMs: number): Promise<NodeStats__Output>;
  /** One alive node's log files (its raylet's log service). */
  nodeLogs(node: NodeRecord): NodeLogs;
}

export interface NodeLogs {
  listLogs(glob: string): Promise<ListLogsReply__Output>;
  streamLog(request: StreamLogRequest, onChunk: (chunk: LogChunk__Output) => void): { done: Promise<void>; cancel(): void };
}

/** The per-node stats of every alive node; nodes that do not answer in time are named in `failures`. */
export async function gatherNodeStats(sources: StateSources, include: { memoryInfo?: boolean; workers?: boolean }, timeoutMs: number):
  Promise<{ stats: { node: NodeRecord; stats: NodeStats__Output }[]; failures: string[] }> {
  const alive = sources.nodes().filter((n) => n.live).map((n) => n.record);
  const results = await Promise.allSettled(alive.map((node) => sources.nodeStats(node, include, timeoutMs)));
  const stats: { node: NodeRecord; stats: NodeStats__Output }[] = [];
  const failures: string[] = [];
  results.forEach((r, i) => {
    const node = alive[i]!;
    if (r.status === 'fulfilled') stats.push({ node, stats: r.value });
    else failures.push(`node ${node.nodeId} (${node.nodeIp}) did not answer: ${(r.reason as Error).message}`);
  });
  return { stats, failures };
}
