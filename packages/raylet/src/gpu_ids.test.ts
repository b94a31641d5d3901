import { describe, expect, it } from 'vitest';
import { GpuIds, gpuDemand } from './gpu_ids.js';

describe('GpuIds', () => {
  it('gives whole GPUs distinct ids, lowest first, and refuses more than are free', () => {
    const gpus = new GpuIds(4);
    expect(gpus.take(1)?.ids).toEqual([0]);
    expect(gpus.take(2)?.ids).toEqual([1, 2]);
    expect(gpus.take(2)).toBeUndefined();
    expect(gpus.take(1)?.ids).toEqual([3]);
    expect(gpus.fits(1)).toBe(false);
  });

  it('packs fractions onto one GPU until its capacity 1 is used, then takes the next', () => {
    const gpus = new GpuIds(2);
    const a = gpus.take(0.5)!;
    const b = gpus.take(0.5)!;
    expect(a.ids).toEqual([0]);
    expect(b.ids).toEqual([0]);
    expect(gpus.take(0.5)?.ids).toEqual([1]);
    // Ten tenths fill a GPU exactly (fixed point, no float drift).
    const tenths = new GpuIds(1);
    for (let i = 0; i < 10; i++) expect(tenths.take(0.1)?.ids).toEqual([0]);
    expect(tenths.fits(0.1)).toBe(false);
  });

  it('puts a fraction on the fullest GPU it fits on (best fit), keeping others whole', () => {
    const gpus = new GpuIds(3);
    gpus.take(1); // 0
    gpus.take(0.3); // 1
    expect(gpus.take(0.5)?.ids).toEqual([1]);
    expect(gpus.wholeFree()).toEqual([2]);
    expect(gpus.take(0.3)?.ids).toEqual([2]);
  });

  it('takes ids back on release, whole and fractional', () => {
    const gpus = new GpuIds(1);
    const half = gpus.take(0.5)!;
    expect(gpus.fits(1)).toBe(false);
    gpus.release(half);
    expect(gpus.take(1)?.ids).toEqual([0]);
  });

  it('gives no ids for no GPUs, on any node', () => {
    expect(new GpuIds(0).take(0)?.ids).toEqual([]);
    expect(new GpuIds(0).take(1)).toBeUndefined();
    expect(new GpuIds(2).take(0)?.ids).toEqual([]);
  });

  it('reads the GPU demand of a shape, inside a placement group too', () => {
    expect(gpuDemand({ CPU: 1 })).toBe(0);
    expect(gpuDemand({ CPU: 1, GPU: 2 })).toBe(2);
    expect(gpuDemand({ CPU_group_pg1: 1, GPU_group_pg1: 0.5, GPU_group_0_pg1: 0.5 })).toBe(0.5);
  });
});
