/**
 * Which GPUs of this node each task and actor holds, as Ray assigns them: the node's GPUs are the
 * instances 0..N-1, each of capacity 1. A request of whole GPUs (1, 2, …) gets that many distinct
 * instances that nobody uses; a fractional request (below 1) shares one instance with other
 * fractional ones, packed onto the fullest instance it still fits on (best fit), so that 0.5 + 0.5
 * take one GPU and leave the others whole. Capacities count in units of 1/10000 as Ray's fixed-point
 * resources do, so 0.1 × 10 fills an instance exactly. Instance i is the device `devices[i]`: the
 * i-th entry of the CUDA_VISIBLE_DEVICES the raylet was started with (as Ray: started with
 * `CUDA_VISIBLE_DEVICES=2,3`, a node has 2 GPUs and its tasks see 2 or 3), else device i.
 */
import { UsageError, type ResourceMap } from '@rayts/common';

const UNITS = 10_000;
/** A task in a placement-group bundle asks for `GPU_group_<pg>` or `GPU_group_<i>_<pg>` instead of `GPU`. */
const GROUP_GPU = /^GPU_group_/;

/** The instances one task or actor holds, and how much of each (the same for all of them). */
export interface GpuGrant {
  ids: number[];
  /** Units of each instance held: UNITS for whole GPUs, less for a fraction. */
  units: number;
}

export const NO_GPUS: GpuGrant = Object.freeze({ ids: Object.freeze([]) as unknown as number[], units: 0 });

/** How many GPUs a resource shape asks for: `GPU`, or the bundle's GPU resource inside a placement group. */
export function gpuDemand(shape: ResourceMap): number {
  if (shape.GPU) return shape.GPU;
  let demand = 0;
  for (const [k, v] of Object.entries(shape)) if (GROUP_GPU.test(k) && v > demand) demand = v;
  return demand;
}

/**
 * The devices a raylet may hand out, from its own CUDA_VISIBLE_DEVICES: undefined when unset (every
 * device), [] when empty (none). Non-numeric entries (GPU UUIDs, MIG ids) are not mapped: undefined,
 * with a note saying so.
 */
export function visibleGpuDevices(value: string | undefined): { devices?: number[]; note?: string } {
  if (value === undefined) return {};
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.every((e) => /^\d+$/.test(e))) return { devices: entries.map(Number) };
  return { note: `CUDA_VISIBLE_DEVICES=${value} names devices by UUID; tasks get instance numbers 0..N-1 as their GPU ids` };
}

/** The GPU count a node offers given its visible devices (Ray's rule): --num-gpus beyond them is refused. */
export function gpuCountWithin(devices: number[] | undefined, requested: number | undefined, detected: number): number {
  if (!devices) return requested ?? detected;
  if (requested === undefined) return Math.min(detected, devices.length);
  if (requested > devices.length) {
    throw new UsageError(`--num-gpus=${requested}, but this node's CUDA_VISIBLE_DEVICES lists ${devices.length} device(s) (${devices.join(',') || 'none'})`,
      'ask for at most that many GPUs, or start rayts with the devices it may use in CUDA_VISIBLE_DEVICES');
  }
  return requested;
}

export class GpuIds {
  /** Free units per instance. */
  private readonly free: number[];
  /** The device of each instance. */
  private readonly devices: number[];

  constructor(count: number, devices?: number[]) {
    this.free = Array.from({ length: Math.max(0, Math.floor(count)) }, () => UNITS);
    this.devices = this.free.map((_, i) => devices?.[i] ?? i);
  }

  get count(): number {
    return this.free.length;
  }

  /** Whether `amount` GPUs can be given out now (the quantity alone is not enough: fractions fragment). */
  fits(amount: number): boolean {
    return this.pick(amount) !== undefined;
  }

  /** Takes instances for `amount` GPUs (0 takes none); undefined when they are not free now. */
  take(amount: number): GpuGrant | undefined {
    const grant = this.pick(amount);
    if (!grant) return undefined;
    for (const i of grant.ids) this.free[i]! -= grant.units;
    return { ids: grant.ids.map((i) => this.devices[i]!), units: grant.units };
  }

  release(grant: GpuGrant | undefined): void {
    if (!grant) return;
    for (const id of grant.ids) {
      const i = this.devices.indexOf(id);
      if (i >= 0) this.free[i] = Math.min(UNITS, this.free[i]! + grant.units);
    }
  }

  /** Devices nobody holds any part of, for tests and logs. */
  wholeFree(): number[] {
    return this.wholeFreeInstances().map((i) => this.devices[i]!);
  }

  private wholeFreeInstances(): number[] {
    return this.free.flatMap((u, i) => (u === UNITS ? [i] : []));
  }

  private pick(amount: number): GpuGrant | undefined {
    if (!(amount > 0)) return NO_GPUS;
    if (amount >= 1) {
      // Whole GPUs (a non-whole amount above 1 is refused by the caller's API; here it counts up).
      const ids = this.wholeFreeInstances().slice(0, Math.ceil(amount - 1e-9));
      return ids.length === Math.ceil(amount - 1e-9) ? { ids, units: UNITS } : undefined;
    }
    const units = Math.round(amount * UNITS);
    let best = -1;
    this.free.forEach((u, id) => {
      if (u >= units && (best < 0 || u < this.free[best]!)) best = id;
    });
    return best < 0 ? undefined : { ids: [best], units };
  }
}
