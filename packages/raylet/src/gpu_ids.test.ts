import { describe, expect, it } from 'vitest';
import { UsageError } from '@rayts/common';
import { GpuIds, gpuCountWithin, gpuDemand, visibleGpuDevices } from './gpu_ids.js';

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

  it('hands out the devices of the raylet\'s CUDA_VISIBLE_DEVICES, in its order, and takes them back', () => {
    const gpus = new GpuIds(2, [5, 7]);
    const a = gpus.take(1)!;
    const b = gpus.take(0.5)!;
    expect(a.ids).toEqual([5]);
    expect(b.ids).toEqual([7]);
    expect(gpus.take(0.5)?.ids).toEqual([7]);
    expect(gpus.fits(0.1)).toBe(false);
    gpus.release(a);
    expect(gpus.wholeFree()).toEqual([5]);
    expect(gpus.take(1)?.ids).toEqual([5]);
  });
});

describe('CUDA_VISIBLE_DEVICES of the raylet', () => {
  it('parses device numbers; empty means none; UUIDs are left unmapped with a note', () => {
    expect(visibleGpuDevices(undefined)).toEqual({});
    expect(visibleGpuDevices('')).toEqual({ devices: [] });
    expect(visibleGpuDevices(' 2, 3 ')).toEqual({ devices: [2, 3] });
    const uuid = visibleGpuDevices('GPU-8f2a1c9e-0000-1111-2222-333344445555');
    expect(uuid.devices).toBeUndefined();
    expect(uuid.note).toContain('names devices by UUID');
  });

  it('caps the detected count at the visible devices and refuses --num-gpus beyond them (as Ray)', () => {
    expect(gpuCountWithin(undefined, undefined, 8)).toBe(8);
    expect(gpuCountWithin([2, 3], undefined, 8)).toBe(2);
    expect(gpuCountWithin([2, 3], undefined, 0)).toBe(0);
    expect(gpuCountWithin([2, 3], 2, 0)).toBe(2);
    expect(() => gpuCountWithin([2, 3], 3, 0)).toThrow(UsageError);
    expect(() => gpuCountWithin([2, 3], 3, 0)).toThrow("--num-gpus=3, but this node's CUDA_VISIBLE_DEVICES lists 2 device(s) (2,3)");
  });
});

