import { describe, expect, it, afterEach } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceleratorType, gpuResources, parseNvidiaSmi, queryNvidiaSmi } from './gpu_detect.js';

/** Captured from `nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits` on an 8×A100 node. */
const A100_NODE = `0, NVIDIA A100-SXM4-40GB, 40960
1, NVIDIA A100-SXM4-40GB, 40960
2, NVIDIA A100-SXM4-40GB, 40960
3, NVIDIA A100-SXM4-40GB, 40960
4, NVIDIA A100-SXM4-40GB, 40960
5, NVIDIA A100-SXM4-40GB, 40960
6, NVIDIA A100-SXM4-40GB, 40960
7, NVIDIA A100-SXM4-40GB, 40960
`;

describe('parseNvidiaSmi', () => {
  it('reads the index, name and memory of every GPU', () => {
    const gpus = parseNvidiaSmi(A100_NODE);
    expect(gpus).toHaveLength(8);
    expect(gpus[0]).toEqual({ index: 0, name: 'NVIDIA A100-SXM4-40GB', memoryMiB: 40960 });
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('skips blank and malformed lines, keeps a name with a comma, and reads [N/A] memory as 0', () => {
    const text = '\r\n1, Tesla V100-SXM2-16GB, 16160\r\nNo devices were found\n0, Weird, Name, [N/A]\n';
    expect(parseNvidiaSmi(text)).toEqual([
      { index: 0, name: 'Weird, Name', memoryMiB: 0 },
      { index: 1, name: 'Tesla V100-SXM2-16GB', memoryMiB: 16160 },
    ]);
    expect(parseNvidiaSmi('')).toEqual([]);
  });
});

describe('acceleratorType', () => {
  it('names the model as Ray does', () => {
    expect(acceleratorType('NVIDIA A100-SXM4-40GB')).toBe('A100');
    expect(acceleratorType('Tesla V100-SXM2-16GB')).toBe('V100');
    expect(acceleratorType('NVIDIA H100 80GB HBM3')).toBe('H100');
    expect(acceleratorType('Tesla T4')).toBe('T4');
    expect(acceleratorType('NVIDIA A10G')).toBe('A10G');
    expect(acceleratorType('NVIDIA L4')).toBe('L4');
    expect(acceleratorType('NVIDIA RTX PRO 6000 Blackwell Server Edition')).toBe('RTX PRO 6000');
    expect(acceleratorType('NVIDIA GeForce RTX 4090')).toBe('GeForce-RTX-4090');
  });

  it('gives GPU and accelerator_type:<model> resources, nothing without GPUs', () => {
    expect(gpuResources(8, parseNvidiaSmi(A100_NODE))).toEqual({ GPU: 8, 'accelerator_type:A100': 1 });
    expect(gpuResources(4, [])).toEqual({ GPU: 4 });
    expect(gpuResources(0, parseNvidiaSmi(A100_NODE))).toEqual({});
  });
});

describe('queryNvidiaSmi', () => {
  let dir = '';
  afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('runs the binary with the query flags and parses what it prints', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rayts-smi-'));
    const smi = join(dir, 'nvidia-smi');
    // Prints the captured text only when called with the documented query (so the flags are checked).
    writeFileSync(smi, `#!/bin/sh\n[ "$1" = "--query-gpu=index,name,memory.total" ] && [ "$2" = "--format=csv,noheader,nounits" ] || exit 9\ncat <<'OUT'\n${A100_NODE}OUT\n`);
    chmodSync(smi, 0o755);
    const gpus = await queryNvidiaSmi(smi, 5000);
    expect(gpus?.map((g) => g.name)).toEqual(Array(8).fill('NVIDIA A100-SXM4-40GB'));
  });

  it('answers undefined when nvidia-smi is missing or fails (the caller falls back)', async () => {
    expect(await queryNvidiaSmi('/nonexistent/nvidia-smi', 5000)).toBeUndefined();
    expect(await queryNvidiaSmi('false', 5000)).toBeUndefined();
  });
});
