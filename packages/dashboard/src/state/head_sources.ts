/** The state API's sources in the head process: the head's own managers and its raylet clients. */
import { formatAddress } from '@rayts/common';
import type { HeadState, NodeRecord } from '@rayts/gcs';
import type { StateSources } from './sources.js';

export function headSources(state: HeadState): StateSources {
  const raylet = (node: NodeRecord) => state.raylets.get(formatAddress(node.nodeIp, node.rayletPort));
  return {
    nodes: () => [
      ...state.nodes.alive().map((live) => ({ record: live.record, live })),
      ...state.nodes.deadNodes(state.config.deadNodesKept).map((record) => ({ record })),
    ],
    actors: () => state.actors.list(true),
    placementGroups: () => state.placementGroups.list(),
    jobs: () => state.jobSubmissions.list(),
    job: (id) => state.jobSubmissions.get(id),
    taskAttempts: () => state.taskEvents.list(),
    taskAttemptsOf: (taskId) => state.taskEvents.attemptsOf(taskId),
    taskEventStats: () => state.taskEvents.stats(),
    nodeStats: (node, include, timeoutMs) => raylet(node).getNodeStats(include, timeoutMs),
    nodeLogs: (node) => raylet(node),
  };
}
