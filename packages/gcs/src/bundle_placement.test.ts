import { describe, expect, it } from 'vitest';
import { placeBundles, type PlacementNode } from './bundle_placement.js';

const node = (nodeId: string, cpu: number, free = cpu, extra: Record<string, number> = {}): PlacementNode =>
  ({ nodeId, total: { CPU: cpu, ...extra }, available: { CPU: free, ...extra } });
const three = () => [node('a', 2), node('b', 2), node('c', 2)];
const cpus = (n: number, amount = 1) => Array.from({ length: n }, () => ({ CPU: amount }));

describe('placeBundles', () => {
  it('STRICT_SPREAD puts each bundle on its own node, or waits for enough nodes', () => {
    const placed = placeBundles(cpus(3), 'STRICT_SPREAD', three());
    expect(placed.kind).toBe('placed');
    if (placed.kind === 'placed') expect(new Set(placed.nodeIds).size).toBe(3);
    const four = placeBundles(cpus(4), 'STRICT_SPREAD', three());
    expect(four).toMatchObject({ kind: 'pending', infeasible: false });
  });

  it('STRICT_SPREAD finds the matching a greedy choice would miss', () => {
    // Bundle 1 only fits on b; a greedy pass that gave b to bundle 0 would fail.
    const nodes = [node('a', 1), node('b', 4)];
    const placed = placeBundles([{ CPU: 1 }, { CPU: 3 }], 'STRICT_SPREAD', nodes);
    expect(placed).toEqual({ kind: 'placed', nodeIds: ['a', 'b'] });
  });

  it('STRICT_PACK needs one node for everything', () => {
    const placed = placeBundles(cpus(2), 'STRICT_PACK', three());
    expect(placed.kind).toBe('placed');
    if (placed.kind === 'placed') expect(new Set(placed.nodeIds).size).toBe(1);
    expect(placeBundles(cpus(3), 'STRICT_PACK', three())).toMatchObject({ kind: 'pending', infeasible: false });
  });

  it('PACK prefers one node and falls back to several', () => {
    const one = placeBundles(cpus(2), 'PACK', three());
    if (one.kind !== 'placed') throw new Error('not placed');
    expect(new Set(one.nodeIds).size).toBe(1);
    const several = placeBundles(cpus(4), 'PACK', three());
    if (several.kind !== 'placed') throw new Error('not placed');
    expect(new Set(several.nodeIds).size).toBe(2);
    expect(placeBundles(cpus(7), 'PACK', three())).toMatchObject({ kind: 'pending', infeasible: false });
  });

  it('PACK packs onto the busier node', () => {
    const placed = placeBundles(cpus(1), 'PACK', [node('a', 4, 4), node('b', 4, 2)]);
    expect(placed).toEqual({ kind: 'placed', nodeIds: ['b'] });
  });

  it('SPREAD uses distinct nodes while it can, then shares', () => {
    const placed = placeBundles(cpus(4), 'SPREAD', three());
    if (placed.kind !== 'placed') throw new Error('not placed');
    expect(new Set(placed.nodeIds.slice(0, 3)).size).toBe(3);
    expect(placed.nodeIds).toHaveLength(4);
  });

  it('a bundle no node has is infeasible, one that does not fit now just waits', () => {
    expect(placeBundles([{ GPU: 1 }], 'PACK', three())).toMatchObject({ kind: 'pending', infeasible: true });
    expect(placeBundles([{ CPU: 2 }], 'PACK', [node('a', 2, 1)])).toMatchObject({ kind: 'pending', infeasible: false });
  });

  it('keeps fixed bundles and respects them: STRICT_SPREAD avoids their nodes', () => {
    const placed = placeBundles(cpus(3), 'STRICT_SPREAD', three(), ['a', undefined, 'c']);
    expect(placed).toEqual({ kind: 'placed', nodeIds: ['a', 'b', 'c'] });
    expect(placeBundles(cpus(2), 'STRICT_SPREAD', [node('a', 2), node('b', 2)], ['a', undefined]))
      .toEqual({ kind: 'placed', nodeIds: ['a', 'b'] });
    expect(placeBundles(cpus(2), 'STRICT_SPREAD', [node('a', 2)], ['a', undefined])).toMatchObject({ kind: 'pending' });
    // A fixed bundle on a node that is gone is placed again.
    expect(placeBundles(cpus(1), 'PACK', [node('b', 2)], ['dead'])).toEqual({ kind: 'placed', nodeIds: ['b'] });
  });

  it('STRICT_PACK joins the node the group already uses', () => {
    expect(placeBundles(cpus(2), 'STRICT_PACK', three(), [undefined, 'b'])).toEqual({ kind: 'placed', nodeIds: ['b', 'b'] });
  });
});
