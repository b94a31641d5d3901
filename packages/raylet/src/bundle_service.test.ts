import { describe, expect, it } from 'vitest';
import { nullLogger, type BundleSpec__Output } from '@rayts/common';
import { BundleReservations } from './bundle_reservations.js';
import { bundleHandlers } from './bundle_service.js';

const NODE = 'ab'.repeat(28);
const [A, B, C] = ['a1', 'b2', 'c3'].map((p) => p.repeat(18));

interface Reply { success: boolean; reason: string; failures: { placementGroupId: string; reason: string }[] }

/** Runs one handler the way grpc-js calls it (the request in, the reply out through the callback). */
function call(handler: (call: unknown, cb: (err: unknown, reply?: Reply) => void) => void, bundles: BundleSpec__Output[]): Promise<Reply> {
  return new Promise((resolve, reject) => handler({ request: { nodeId: NODE, bundles } }, (err, reply) => (err ? reject(err) : resolve(reply!))));
}

const spec = (placementGroupId: string, bundleIndex: number, cpu: number): BundleSpec__Output => ({ placementGroupId, bundleIndex, resources: { CPU: cpu } });

describe('bundle handlers with the bundles of several groups in one call', () => {
  it('reserve succeeds or fails per group, dispatches once, and names only the groups that failed', async () => {
    let dispatched = 0;
    const resources = { total: { CPU: 3 } as Record<string, number>, available: { CPU: 3 } as Record<string, number>, dispatch: () => { dispatched += 1; } };
    const reservations = new BundleReservations(resources, nullLogger);
    const handlers = bundleHandlers(NODE, reservations, nullLogger);
    // A needs 2 (fits), B needs 2 more (does not fit after A), C needs 1 (fits after A).
    const reply = await call(handlers.ReserveBundles as never, [spec(A, 0, 1), spec(A, 1, 1), spec(B, 0, 1), spec(B, 1, 1), spec(C, 0, 1)]);
    expect(reply.success).toBe(false);
    expect(reply.failures.map((f) => f.placementGroupId)).toEqual([B]);
    expect(reply.reason).toBe(reply.failures[0]!.reason);
    expect(reply.reason).toContain('cannot hold');
    // B held nothing (all or none within the group); A and C are committed.
    expect(reservations.held().map((h) => h.placementGroupId).sort()).toEqual([A, A, C].sort());
    expect(reservations.held().every((h) => h.committed)).toBe(true);
    expect(resources.available.CPU).toBe(0);
    expect(dispatched).toBe(1);

    const returned = await call(handlers.ReturnBundles as never, [spec(A, 0, 1), spec(A, 1, 1), spec(C, 0, 1)]);
    expect(returned).toMatchObject({ success: true, reason: '', failures: [] });
    expect(resources.available).toEqual({ CPU: 3 });
    expect(resources.total).toEqual({ CPU: 3 });
    expect(dispatched).toBe(2);
  });
});
