/** Scheduling strategies between their TypeScript shape and the gRPC message (tasks, actor specs). */
import type { SchedulingStrategy } from './placement.js';
import type { SchedulingStrategy as SchedulingStrategyMsg, SchedulingStrategy__Output as SchedulingStrategyMsgOutput } from '../generated/rayts/v1/SchedulingStrategy.js';

export function strategyToMsg(s: SchedulingStrategy): SchedulingStrategyMsg {
  return s.kind === 'NODE_AFFINITY' ? { kind: s.kind, nodeId: s.nodeId, soft: s.soft } : { kind: s.kind };
}

export function strategyFromMsg(s: SchedulingStrategyMsgOutput | null | undefined): SchedulingStrategy {
  if (s?.kind === 'NODE_AFFINITY') return { kind: 'NODE_AFFINITY', nodeId: s.nodeId, soft: s.soft };
  return s?.kind === 'SPREAD' ? { kind: 'SPREAD' } : { kind: 'DEFAULT' };
}
