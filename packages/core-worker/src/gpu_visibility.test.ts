import { describe, expect, it } from 'vitest';
import { GpuVisibility } from './gpu_visibility.js';

describe('GpuVisibility', () => {
  it('sets CUDA_VISIBLE_DEVICES to the ids and removes it again for work without GPUs', () => {
    const env: NodeJS.ProcessEnv = {};
    const gpus = new GpuVisibility(env);
    expect(gpus.ids).toEqual([]);
    gpus.assign([2, 3]);
    expect(env.CUDA_VISIBLE_DEVICES).toBe('2,3');
    expect(gpus.ids).toEqual([2, 3]);
    gpus.assign([]);
    expect('CUDA_VISIBLE_DEVICES' in env).toBe(false);
    expect(gpus.ids).toEqual([]);
  });

  it('restores the value the worker inherited when the next work holds no GPU', () => {
    const env: NodeJS.ProcessEnv = { CUDA_VISIBLE_DEVICES: '0,1,2,3' };
    const gpus = new GpuVisibility(env);
    gpus.assign([1]);
    expect(env.CUDA_VISIBLE_DEVICES).toBe('1');
    gpus.assign(undefined);
    expect(env.CUDA_VISIBLE_DEVICES).toBe('0,1,2,3');
  });
});
