/**
 * What this node offers, unless the flags give it: CPUs and memory detected with systeminformation
 * and the cgroup limits a container or systemd slice sets; GPUs with nvidia-smi, else
 * systeminformation (gpu_detect.ts); the object store size by Ray's rule (30 % of available memory,
 * at least 75 MiB, at most 95 % of free /dev/shm).
 */
import si from 'systeminformation';
import { availableParallelism } from 'node:os';
import { readFileSync, statfsSync } from 'node:fs';
import { UsageError, type Config, type ResourceMap } from '@rayts/common';
import { detectGpus, gpuResources, type DetectedGpus } from './gpu_detect.js';
import { gpuCountWithin, visibleGpuDevices } from './gpu_ids.js';
import { CUDA_VISIBLE_DEVICES } from '@rayts/core-worker';

export const MAX_DEFAULT_OBJECT_STORE_BYTES = 200e9;

export interface ResourceFlags {
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  objectStoreMemory?: number;
  custom: ResourceMap;
  nodeIp: string;
  isHead: boolean;
}

export interface DetectedResources {
  resources: ResourceMap;
  objectStoreBytes: number;
  /** The GPUs found on the node (whether or not --num-gpus overrides their count), for the raylet log. */
  gpus?: DetectedGpus;
  /** Non-fatal remarks for the raylet log (e.g. /dev/shm smaller than wanted). */
  notes: string[];
  /** The device of each GPU instance (the raylet's CUDA_VISIBLE_DEVICES); undefined = 0..N-1. */
  gpuDevices?: number[];
}

function readCgroup(file: string): string | undefined {
  try {
    return readFileSync(`/sys/fs/cgroup/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** CPUs this process may use: affinity, then the cgroup v2 quota (as Ray honours it). */
export function detectCpus(): number {
  let cpus = availableParallelism();
  const [quota, period] = (readCgroup('cpu.max') ?? 'max').split(/\s+/);
  if (quota && quota !== 'max' && Number(period) > 0) cpus = Math.min(cpus, Math.max(1, Math.floor(Number(quota) / Number(period))));
  return cpus;
}

async function detectAvailableMemory(): Promise<number> {
  const mem = await si.mem();
  const limit = Number(readCgroup('memory.max'));
  return Number.isFinite(limit) && limit > 0 ? Math.min(mem.available, limit) : mem.available;
}

function freeShmBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

export function defaultObjectStoreBytes(availableMemory: number, config: Pick<Config, 'objectStoreMemoryProportion' | 'objectStoreMinBytes' | 'objectStoreShmShare' | 'objectStoreShmDir'>): number {
  let size = Math.min(availableMemory * config.objectStoreMemoryProportion, MAX_DEFAULT_OBJECT_STORE_BYTES);
  const shm = freeShmBytes(config.objectStoreShmDir);
  if (shm !== undefined) size = Math.min(size, shm * config.objectStoreShmShare);
  return Math.floor(Math.max(size, config.objectStoreMinBytes));
}

export async function detectResources(flags: ResourceFlags, config: Config, env: NodeJS.ProcessEnv = process.env): Promise<DetectedResources> {
  const notes: string[] = [];
  const cpus = flags.numCpus ?? detectCpus();
  // --num-gpus wins, within the raylet's CUDA_VISIBLE_DEVICES; the GPUs found still name the accelerator type.
  const visible = visibleGpuDevices(env[CUDA_VISIBLE_DEVICES]);
  if (visible.note) notes.push(visible.note);
  const detected = flags.numGpus === 0 ? undefined : await detectGpus({ nvidiaSmi: config.nvidiaSmiPath, timeoutMs: config.gpuDetectTimeoutMs });
  const found = detected && visible.devices ? { ...detected, gpus: detected.gpus.filter((g) => visible.devices!.includes(g.index)) } : detected;
  const gpus = gpuCountWithin(visible.devices, flags.numGpus, found?.gpus.length ?? 0);
  const available = flags.memory === undefined || flags.objectStoreMemory === undefined ? await detectAvailableMemory() : 0;
  const objectStoreBytes = flags.objectStoreMemory ?? defaultObjectStoreBytes(available, config);
  if (objectStoreBytes < config.objectStoreMinBytes) {
    throw new UsageError(`--object-store-memory must be at least ${config.objectStoreMinBytes} bytes (75 MiB), got ${objectStoreBytes}`);
  }
  const shm = freeShmBytes(config.objectStoreShmDir);
  if (shm !== undefined && objectStoreBytes > shm) {
    notes.push(`${config.objectStoreShmDir} has only ${shm} bytes free, less than the ${objectStoreBytes}-byte object store; the store will fall back to the temp dir (slower)`);
  }
  const memory = flags.memory ?? Math.max(0, Math.floor(available - objectStoreBytes));
  const resources: ResourceMap = { ...flags.custom, CPU: cpus, memory, object_store_memory: objectStoreBytes };
  Object.assign(resources, gpuResources(gpus, found?.gpus ?? []));
  resources[`node:${flags.nodeIp}`] = 1;
  if (flags.isHead) resources['node:__internal_head__'] = 1;
  return { resources, objectStoreBytes, notes, gpus: found, gpuDevices: visible.devices };
}
