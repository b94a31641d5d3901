/**
 * Where a task or actor runs, decided by the raylet that received a task
 * (or by the head for an actor, with the owner's node as `local`), from its
 * cluster view (every node's resources, refreshed by each report to the head) and its own exact
 * local state:
 * - DEFAULT (hybrid): stay local while this node can run it and is at most half used; else the
 *   least-utilised node that can run it now (ties broken at random among the best); else wait
 *   where it is feasible (local first).
 * - SPREAD: round-robin over the feasible nodes sorted by id. (Ray prefers nodes with free
 *   resources first; our view of other nodes can be a report period old, and preferring by it piles
 *   bursts onto the local node, so the target queues the task instead.)
 * - NODE_AFFINITY: that node while it is alive and feasible; otherwise soft → DEFAULT, hard → fails.
 */
import type { ResourceMap } from '../resources.js';

export type SchedulingStrategy =
  | { kind: 'DEFAULT' }
  | { kind: 'SPREAD' }
  | { kind: 'NODE_AFFINITY'; nodeId: string; soft: boolean };

/** Whether a resource shape fits into what is available (with float slack). */
export function fits(shape: ResourceMap, available: ResourceMap): boolean {
  for (const [k, v] of Object.entries(shape)) if ((available[k] ?? 0) + 1e-9 < v) return false;
  return true;
}

export interface ViewNode {
  nodeId: string;
  address: string;
  total: ResourceMap;
  available: ResourceMap;
}

export type Placement =
  | { kind: 'local' }
  | { kind: 'remote'; node: ViewNode }
  | { kind: 'infeasible' }
  | { kind: 'unschedulable'; reason: string };

/** The most used of the task's resources on the node, after placing it. */
export function utilisation(node: Pick<ViewNode, 'total' | 'available'>, shape: ResourceMap): number {
  let worst = 0;
  for (const [k, v] of Object.entries(shape)) {
    const total = node.total[k] ?? 0;
    if (total <= 0) continue;
    worst = Math.max(worst, (total - (node.available[k] ?? 0) + v) / total);
  }
  return worst;
}

/**
 * DEFAULT (hybrid) keeps work on this node while it fits now and the node stays at most
 * `spreadThreshold` used (the `schedulerSpreadThreshold` tunable, half by default).
 */
export function staysLocal(shape: ResourceMap, local: Pick<ViewNode, 'total' | 'available'>, spreadThreshold: number): boolean {
  return fits(shape, local.available) && fits(shape, local.total) && utilisation(local, shape) <= spreadThreshold;
}

export class ClusterPlacement {
  private spreadCursor = '';

  constructor(readonly localNodeId: string, private readonly spreadThreshold: number) {}

  decide(shape: ResourceMap, strategy: SchedulingStrategy, local: ViewNode, others: ViewNode[]): Placement {
    const all = [local, ...others.filter((n) => n.nodeId !== local.nodeId)];
    const feasible = all.filter((n) => fits(shape, n.total));
    if (strategy.kind === 'NODE_AFFINITY') {
      const target = all.find((n) => n.nodeId === strategy.nodeId);
      if (target && fits(shape, target.total)) return target.nodeId === local.nodeId ? { kind: 'local' } : { kind: 'remote', node: target };
      if (!strategy.soft) {
        return {
          kind: 'unschedulable',
          reason: target ? `hard node affinity: node ${strategy.nodeId} does not have ${JSON.stringify(shape)}`
            : `hard node affinity: node ${strategy.nodeId} is not alive (it died or never joined); with soft: true it would run elsewhere`,
        };
      }
    }
    if (feasible.length === 0) return { kind: 'infeasible' };
    const pick = (n: ViewNode): Placement => (n.nodeId === local.nodeId ? { kind: 'local' } : { kind: 'remote', node: n });
    if (strategy.kind === 'SPREAD') {
      const sorted = [...feasible].sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
      const afterCursor = [...sorted.filter((n) => n.nodeId > this.spreadCursor), ...sorted.filter((n) => n.nodeId <= this.spreadCursor)];
      const choice = afterCursor[0]!;
      this.spreadCursor = choice.nodeId;
      return pick(choice);
    }
    if (staysLocal(shape, local, this.spreadThreshold)) return { kind: 'local' };
    const availableNow = feasible.filter((n) => fits(shape, n.available));
    if (availableNow.length > 0) {
      const scored = availableNow.map((n) => ({ n, u: utilisation(n, shape) <= this.spreadThreshold ? 0 : utilisation(n, shape) }));
      const best = Math.min(...scored.map((s) => s.u));
      const top = scored.filter((s) => s.u === best);
      const localTop = top.find((s) => s.n.nodeId === local.nodeId);
      return pick(localTop ? localTop.n : top[Math.floor(Math.random() * top.length)]!.n);
    }
    return fits(shape, local.total) ? { kind: 'local' } : pick(feasible.sort((a, b) => utilisation(a, shape) - utilisation(b, shape))[0]!);
  }
}
