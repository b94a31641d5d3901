import { describe, expect, it } from 'vitest';
import { nullLogger } from '@rayts/common';
import { BundleReservations } from './bundle_reservations.js';

const PG = 'cd'.repeat(18);

function node(cpu: number) {
  let dispatched = 0;
  const resources = { total: { CPU: cpu } as Record<string, number>, available: { CPU: cpu } as Record<string, number>, dispatch: () => { dispatched += 1; } };
  return { resources, dispatched: () => dispatched };
}

const bundle = (i: number, cpu = 1) => ({ placementGroupId: PG, bundleIndex: i, resources: { CPU: cpu } });

describe('BundleReservations', () => {
  it('prepare holds, commit adds the group resources, return gives everything back', () => {
    const n = node(4);
    const r = new BundleReservations(n.resources, nullLogger);
    expect(r.prepare([bundle(0), bundle(1)])).toEqual({ success: true });
    expect(n.resources.available.CPU).toBe(2);
    expect(n.resources.total).toEqual({ CPU: 4 });
    expect(r.commit([bundle(0), bundle(1)])).toEqual({ success: true });
    expect(n.resources.total).toMatchObject({ CPU: 4, [`CPU_group_${PG}`]: 2, [`CPU_group_0_${PG}`]: 1, [`CPU_group_1_${PG}`]: 1, [`bundle_group_${PG}`]: 2000, [`bundle_group_0_${PG}`]: 1000 });
    expect(n.resources.available[`CPU_group_1_${PG}`]).toBe(1);
    expect(n.dispatched()).toBe(1);
    // Idempotent: a repeated prepare or commit changes nothing.
    expect(r.prepare([bundle(0)])).toEqual({ success: true });
    expect(r.commit([bundle(0)])).toEqual({ success: true });
    expect(n.resources.available.CPU).toBe(2);
    expect(r.return([bundle(0), bundle(1)])).toEqual({ success: true });
    expect(n.resources.total).toEqual({ CPU: 4 });
    expect(n.resources.available).toEqual({ CPU: 4 });
  });

  it('prepares all bundles of a call or none, and cancel undoes a prepare', () => {
    const n = node(2);
    const r = new BundleReservations(n.resources, nullLogger);
    const refused = r.prepare([bundle(0), bundle(1), bundle(2)]);
    expect(refused.success).toBe(false);
    expect(n.resources.available.CPU).toBe(2);
    expect(r.prepare([bundle(0)])).toEqual({ success: true });
    expect(r.commit([bundle(5)]).success).toBe(false);
    expect(r.cancel([bundle(0), bundle(9)])).toEqual({ success: true });
    expect(n.resources.available).toEqual({ CPU: 2 });
    expect(r.held()).toEqual([]);
  });
});
