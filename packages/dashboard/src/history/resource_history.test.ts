/** ResourceHistory: sums of the alive nodes' view per sample, a ring that keeps the newest, bad sizes refused. */
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '@rayts/common';
import { ResourceHistory, type ResourceViewNode } from './resource_history.js';

function history(nodes: ResourceViewNode[], capacity: number) {
  let now = 1000;
  const h = new ResourceHistory({ view: { alive: () => nodes }, capacity, intervalMs: 5000, now: () => (now += 5000) });
  return h;
}

describe('ResourceHistory', () => {
  it('sums used (total − available) and totals over the alive nodes', () => {
    const nodes = [
      { total: { CPU: 4, GPU: 1, memory: 1000, object_store_memory: 100 }, available: { CPU: 1, GPU: 1, memory: 400, object_store_memory: 100 } },
      { total: { CPU: 2 }, available: { CPU: 2 } },
    ];
    const s = history(nodes, 10).sample();
    expect(s).toEqual({
      timeMs: 6000, aliveNodes: 2,
      used: { CPU: 3, GPU: 0, memory: 600, object_store_memory: 0 },
      total: { CPU: 6, GPU: 1, memory: 1000, object_store_memory: 100 },
    });
  });

  it('keeps the newest samples, oldest first, once the ring is full', () => {
    const nodes: ResourceViewNode[] = [{ total: { CPU: 1 }, available: { CPU: 1 } }];
    const h = history(nodes, 3);
    expect(h.snapshot()).toEqual({ intervalMs: 5000, capacity: 3, samples: [] });
    for (let i = 0; i < 5; i++) {
      nodes[0]!.available.CPU = i % 2;
      h.sample();
    }
    const { samples } = h.snapshot();
    expect(samples.map((s) => s.timeMs)).toEqual([16000, 21000, 26000]);
    expect(samples.map((s) => s.used.CPU)).toEqual([1, 0, 1]);
  });

  it('samples on start and every interval until stop', () => {
    vi.useFakeTimers();
    try {
      const h = new ResourceHistory({ view: { alive: () => [] }, capacity: 100, intervalMs: 100 });
      h.start();
      expect(h.snapshot().samples).toHaveLength(1);
      vi.advanceTimersByTime(250);
      expect(h.snapshot().samples).toHaveLength(3);
      h.stop();
      vi.advanceTimersByTime(1000);
      expect(h.snapshot().samples).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a capacity below 1 or an interval below 100 ms, naming the variable', () => {
    const view = { alive: () => [] };
    expect(() => new ResourceHistory({ view, capacity: 0, intervalMs: 5000 })).toThrow(UsageError);
    expect(() => new ResourceHistory({ view, capacity: 0, intervalMs: 5000 })).toThrow(/at least 1 sample/);
    try { new ResourceHistory({ view, capacity: 10, intervalMs: 5 }); } catch (e) { expect((e as UsageError).hint).toContain('RAYTS_DASHBOARD_HISTORY_INTERVAL_MS'); }
    expect(() => new ResourceHistory({ view, capacity: 10, intervalMs: 5 })).toThrow(/at least 100 ms/);
  });
});
