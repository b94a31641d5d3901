/**
 * Where the bundles of a placement group go, decided by the head over its live
 * node view. Pure: no I/O, so the strategies are unit-tested.
 * - PACK: all on one node if one fits them; else as few nodes as possible (best effort).
 * - SPREAD: distinct nodes while there are free ones that fit; else shares nodes (best effort).
 * - STRICT_PACK: all on one node, or pending.
 * - STRICT_SPREAD: all on distinct nodes, or pending.
 * Bundles already placed (`fixed`, after a node death only some bundles move) keep their node and
 * count for the strategy: a STRICT_SPREAD bundle never joins a node its group already uses.
 */
import { fits, sumShapes, utilisation, type PlacementStrategy, type ResourceMap } from '@rayts/common';

export interface PlacementNode {
  nodeId: string;
  total: ResourceMap;
  available: ResourceMap;
}

export type BundlePlacement =
  | { kind: 'placed'; nodeIds: string[] }
  | { kind: 'pending'; infeasible: boolean; reason: string };

/** Bound on the STRICT_SPREAD search (a matching problem); past it the group waits. */
const MAX_SEARCH_STEPS = 20_000;

interface WorkNode {
  nodeId: string;
  total: ResourceMap;
  available: ResourceMap;
}

function take(node: WorkNode, shape: ResourceMap): void {
  for (const [k, v] of Object.entries(shape)) node.available[k] = (node.available[k] ?? 0) - v;
}

/** Highest utilisation after placing first (packs), then node id (deterministic). */
function byPacking(shape: ResourceMap) {
  return (a: WorkNode, b: WorkNode) => utilisation(b, shape) - utilisation(a, shape) || (a.nodeId < b.nodeId ? -1 : 1);
}

/** Lowest utilisation after placing first (spreads), then node id. */
function bySpreading(shape: ResourceMap) {
  return (a: WorkNode, b: WorkNode) => utilisation(a, shape) - utilisation(b, shape) || (a.nodeId < b.nodeId ? -1 : 1);
}

export function placeBundles(
  bundles: ResourceMap[], strategy: PlacementStrategy, nodes: PlacementNode[], fixed: (string | undefined)[] = [],
): BundlePlacement {
  const work: WorkNode[] = nodes.map((n) => ({ nodeId: n.nodeId, total: n.total, available: { ...n.available } }));
  const byId = new Map(work.map((n) => [n.nodeId, n]));
  const assigned: (string | undefined)[] = bundles.map((_, i) => (fixed[i] && byId.has(fixed[i]!) ? fixed[i] : undefined));
  const todo = bundles.map((_, i) => i).filter((i) => assigned[i] === undefined);
  if (todo.length === 0) return { kind: 'placed', nodeIds: assigned as string[] };

  const unfit = todo.find((i) => !work.some((n) => fits(bundles[i]!, n.total)));
  if (unfit !== undefined) {
    return { kind: 'pending', infeasible: true, reason: `no node has the resources of bundle ${unfit} ${JSON.stringify(bundles[unfit])}` };
  }
  const used = new Set(assigned.filter((n): n is string => !!n));
  const done = (): BundlePlacement => ({ kind: 'placed', nodeIds: assigned as string[] });
  const waiting = (reason: string): BundlePlacement => ({ kind: 'pending', infeasible: false, reason });

  if (strategy === 'STRICT_PACK' || strategy === 'PACK') {
    const need = sumShapes(todo.map((i) => bundles[i]!));
    // A group that already has a node packs onto it.
    const candidates = used.size > 0 ? work.filter((n) => used.has(n.nodeId)) : work;
    const single = candidates.filter((n) => fits(need, n.available)).sort(byPacking(need))[0];
    if (single) {
      for (const i of todo) assigned[i] = single.nodeId;
      return done();
    }
    if (strategy === 'STRICT_PACK') {
      return waiting(used.size > 0 || !work.some((n) => fits(need, n.total))
        ? `no node can ever hold all bundles together (${JSON.stringify(need)})`
        : `no node has ${JSON.stringify(need)} free for all bundles together`);
    }
    for (const i of todo) {
      const shape = bundles[i]!;
      const fitting = work.filter((n) => fits(shape, n.available));
      const choice = fitting.filter((n) => used.has(n.nodeId)).sort(byPacking(shape))[0] ?? fitting.sort(byPacking(shape))[0];
      if (!choice) return waiting(`no node has bundle ${i} ${JSON.stringify(shape)} free`);
      take(choice, shape);
      used.add(choice.nodeId);
      assigned[i] = choice.nodeId;
    }
    return done();
  }

  if (strategy === 'SPREAD') {
    const count = new Map<string, number>();
    for (const n of used) count.set(n, (count.get(n) ?? 0) + 1);
    for (const i of todo) {
      const shape = bundles[i]!;
      const fitting = work.filter((n) => fits(shape, n.available));
      if (fitting.length === 0) return waiting(`no node has bundle ${i} ${JSON.stringify(shape)} free`);
      const choice = fitting.sort((a, b) => (count.get(a.nodeId) ?? 0) - (count.get(b.nodeId) ?? 0) || bySpreading(shape)(a, b))[0]!;
      take(choice, shape);
      count.set(choice.nodeId, (count.get(choice.nodeId) ?? 0) + 1);
      assigned[i] = choice.nodeId;
    }
    return done();
  }

  // STRICT_SPREAD: a node per bundle, never one the group already uses: a small matching search,
  // biggest bundles first (they have the fewest candidates).
  const free = work.filter((n) => !used.has(n.nodeId));
  if (free.length < todo.length) return waiting(`STRICT_SPREAD needs ${todo.length} more distinct nodes, the cluster has ${free.length}`);
  const order = [...todo].sort((a, b) => Object.values(bundles[b]!).reduce((x, y) => x + y, 0) - Object.values(bundles[a]!).reduce((x, y) => x + y, 0));
  let steps = 0;
  const taken = new Set<string>();
  const search = (k: number): boolean => {
    if (k === order.length) return true;
    const i = order[k]!;
    const shape = bundles[i]!;
    for (const n of free.filter((f) => !taken.has(f.nodeId) && fits(shape, f.available)).sort(bySpreading(shape))) {
      if (++steps > MAX_SEARCH_STEPS) return false;
      taken.add(n.nodeId);
      assigned[i] = n.nodeId;
      if (search(k + 1)) return true;
      taken.delete(n.nodeId);
      assigned[i] = undefined;
    }
    return false;
  };
  return search(0) ? done() : waiting(`no ${todo.length} distinct nodes have the bundles free`);
}
