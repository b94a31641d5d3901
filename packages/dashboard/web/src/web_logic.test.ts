/** The page's pure logic: formatting, hash routes, cluster totals (no browser needed). */
import { describe, expect, it } from 'vitest';
import { amount, bytes, duration, shortId } from './format.js';
import { href, parseHash } from './router.js';
import { countBy, resourceTotals, storeTotals, taskStateCounts } from './cluster_totals.js';
import { query } from './api.js';
import type { NodeRow, NodeStoreRow } from './types.js';

describe('format', () => {
  it('bytes, durations, resource amounts and short ids', () => {
    expect([bytes(0), bytes(1536), bytes(300 * 1024), bytes(3 * 2 ** 30), bytes(null)]).toEqual(['0 B', '1.50 KiB', '300.0 KiB', '3.00 GiB', '—']);
    expect([duration(15), duration(2500), duration(125_000), duration(7_260_000), duration(-1)]).toEqual(['15 ms', '2.5 s', '2m 5s', '2h 1m', '—']);
    expect([amount('CPU', 3), amount('CPU', 0.5), amount('memory', 1024)]).toEqual(['3', '0.50', '1.00 KiB']);
    expect([shortId('abcdef0123456789', 8), shortId('abc'), shortId(null)]).toEqual(['abcd…6789', 'abc', '—']);
  });
});

describe('router', () => {
  it('parses and builds hash routes, ids decoded and parameters kept', () => {
    expect(parseHash('')).toMatchObject({ page: '', id: undefined });
    expect(parseHash('#/jobs/raysubmit_1')).toMatchObject({ page: 'jobs', id: 'raysubmit_1' });
    const logs = parseHash(href('logs', 'node/1', { file: 'worker-a-1.out' }));
    expect([logs.page, logs.id, logs.params.get('file')]).toEqual(['logs', 'node/1', 'worker-a-1.out']);
    expect(query({ filter: ['state=ALIVE', 'node_id=x'], limit: 5, detail: undefined })).toBe('?filter=state%3DALIVE&filter=node_id%3Dx&limit=5');
  });
});

describe('cluster totals', () => {
  const node = (state: 'ALIVE' | 'DEAD', total: Record<string, number>, available: Record<string, number> | null) =>
    ({ state, resources_total: total, resources_available: available }) as NodeRow;

  it('sums reserved and total over alive nodes only; counts by state', () => {
    const nodes = [node('ALIVE', { CPU: 4, GPU: 1 }, { CPU: 1, GPU: 1 }), node('ALIVE', { CPU: 2 }, { CPU: 2 }), node('DEAD', { CPU: 8 }, null)];
    expect(resourceTotals(nodes, ['CPU', 'GPU'])).toEqual({ used: { CPU: 3, GPU: 0 }, total: { CPU: 6, GPU: 1 } });
    expect(countBy(nodes, (n) => n.state)).toEqual([['ALIVE', 2], ['DEAD', 1]]);
    expect(storeTotals([{ store_used_bytes: 5, store_capacity_bytes: 10, spilled_bytes_now: 1 }, { store_used_bytes: 1, store_capacity_bytes: 10, spilled_bytes_now: 0 }] as NodeStoreRow[]))
      .toEqual({ used: 6, capacity: 20, spilled: 1 });
    expect(taskStateCounts([{ state_counts: { FINISHED: 2, FAILED: 1 } }, { state_counts: { FINISHED: 3 } }])).toEqual([['FAILED', 1], ['FINISHED', 5]]);
  });
});
