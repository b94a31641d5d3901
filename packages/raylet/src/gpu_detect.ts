/**
 * Finding this node's GPUs: `nvidia-smi --query-gpu=index,name,memory.total` when the binary is
 * there (ids, names, memory), else systeminformation's graphics controllers (NVIDIA/AMD with video
 * memory). The node then offers `GPU` = their count and, as Ray does, `accelerator_type:<model>` = 1
 * for the model of its first GPU (e.g. `accelerator_type:A100`).
 */
import { execFile } from 'node:child_process';
import si from 'systeminformation';

export interface GpuInfo {
  index: number;
  name: string;
  /** Total memory in MiB (nvidia-smi's unit); 0 when unknown. */
  memoryMiB: number;
}

export interface DetectedGpus {
  gpus: GpuInfo[];
  /** Where the list came from. */
  source: 'nvidia-smi' | 'heuristics';
}

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,name,memory.total', '--format=csv,noheader,nounits'];

/** The lines `nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits` prints. */
export function parseNvidiaSmi(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const fields = line.split(',').map((f) => f.trim());
    // The name is the middle: a name with a comma in it keeps its pieces.
    const index = Number(fields[0]);
    const memory = Number(fields[fields.length - 1]);
    if (fields.length < 3 || !Number.isInteger(index) || index < 0) continue;
    gpus.push({ index, name: fields.slice(1, -1).join(', '), memoryMiB: Number.isFinite(memory) ? memory : 0 });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

/**
 * The model part of a GPU name as Ray names accelerator types: after the brand word, the upper-case
 * words up to the first one with a digit, without a hyphenated suffix ("NVIDIA A100-SXM4-40GB" → A100,
 * "Tesla V100-SXM2-16GB" → V100, "NVIDIA RTX PRO 6000 Blackwell" → RTX PRO 6000). Names of another
 * shape give their words joined by hyphens, without the brand ("NVIDIA GeForce RTX 4090" → GeForce-RTX-4090).
 */
export function acceleratorType(name: string): string | undefined {
  const m = /^\w+\s+((?:[A-Z]+\s+)*[A-Z0-9]*\d[A-Z0-9]*)/.exec(name.trim());
  if (m) return m[1];
  const words = name.trim().split(/\s+/).filter((w) => w && !/^nvidia$/i.test(w));
  return words.length > 0 ? words.join('-') : undefined;
}

/** The resources GPUs add to a node: `GPU` and Ray's `accelerator_type:<model>` (of the first GPU). */
export function gpuResources(count: number, gpus: GpuInfo[]): Record<string, number> {
  if (count <= 0) return {};
  const type = gpus[0] && acceleratorType(gpus[0].name);
  return type ? { GPU: count, [`accelerator_type:${type}`]: 1 } : { GPU: count };
}

/** Runs nvidia-smi; undefined when it is not installed, fails, or does not answer in time. */
export function queryNvidiaSmi(binary: string, timeoutMs: number): Promise<GpuInfo[] | undefined> {
  return new Promise((resolve) => {
    execFile(binary, NVIDIA_SMI_ARGS, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => {
      resolve(err ? undefined : parseNvidiaSmi(stdout));
    });
  });
}

async function heuristicGpus(): Promise<GpuInfo[]> {
  try {
    const { controllers } = await si.graphics();
    return controllers
      .filter((c) => /nvidia|amd|advanced micro/i.test(c.vendor) && (c.vram ?? 0) > 0)
      .map((c, index) => ({ index, name: c.model, memoryMiB: c.vram ?? 0 }));
  } catch {
    return [];
  }
}

export async function detectGpus(options: { nvidiaSmi: string; timeoutMs: number }): Promise<DetectedGpus> {
  const smi = await queryNvidiaSmi(options.nvidiaSmi, options.timeoutMs);
  if (smi) return { gpus: smi, source: 'nvidia-smi' };
  return { gpus: await heuristicGpus(), source: 'heuristics' };
}
