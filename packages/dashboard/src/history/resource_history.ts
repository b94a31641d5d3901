/**
 * The head's short memory of cluster resource use, for the web page's charts: every interval it
 * sums the alive nodes' resource view (total and available, as the raylets last reported them) and
 * keeps the newest samples in a ring buffer of fixed size. Nothing is written to disk: after a head
 * restart the history starts empty.
 */
import { UsageError } from '@rayts/common';

/** The resources the charts show, by their resource names. */
export const HISTORY_RESOURCES = ['CPU', 'GPU', 'memory', 'object_store_memory'] as const;
export type HistoryResource = (typeof HISTORY_RESOURCES)[number];

/** One node as the resource view has it (the head's NodeManager.alive() fits). */
export interface ResourceViewNode {
  total: Record<string, number>;
  available: Record<string, number>;
}

export interface ResourceView {
  alive(): ResourceViewNode[];
}

export interface HistorySample {
  timeMs: number;
  aliveNodes: number;
  /** Per resource: what is reserved (total − available) and the total, summed over alive nodes. */
  used: Record<HistoryResource, number>;
  total: Record<HistoryResource, number>;
}

export interface HistoryReply {
  intervalMs: number;
  capacity: number;
  /** Oldest first. */
  samples: HistorySample[];
}

export interface ResourceHistoryOptions {
  view: ResourceView;
  /** How many samples are kept (the oldest are dropped). */
  capacity: number;
  intervalMs: number;
  now?: () => number;
}

type HistoryState = 'IDLE' | 'SAMPLING' | 'STOPPED';

export class ResourceHistory {
  private readonly ring: (HistorySample | undefined)[];
  private next = 0;
  private count = 0;
  private state: HistoryState = 'IDLE';
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ResourceHistoryOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new UsageError(`the dashboard history must keep at least 1 sample, not ${options.capacity}`, 'set RAYTS_DASHBOARD_HISTORY_SAMPLES to a whole number ≥ 1 (720 = an hour at 5 s)');
    }
    if (!Number.isInteger(options.intervalMs) || options.intervalMs < 100) {
      throw new UsageError(`the dashboard history interval must be at least 100 ms, not ${options.intervalMs}`, 'set RAYTS_DASHBOARD_HISTORY_INTERVAL_MS to a whole number ≥ 100');
    }
    this.ring = new Array<HistorySample | undefined>(options.capacity);
    this.now = options.now ?? Date.now;
  }

  /** Takes a sample now and then one every interval, until stop(). */
  start(): void {
    if (this.state !== 'IDLE') return;
    this.state = 'SAMPLING';
    this.sample();
    this.timer = setInterval(() => this.sample(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.state = 'STOPPED';
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample of the resource view into the ring. */
  sample(): HistorySample {
    const nodes = this.options.view.alive();
    const used = zero();
    const total = zero();
    for (const node of nodes) {
      for (const r of HISTORY_RESOURCES) {
        const t = node.total[r] ?? 0;
        total[r] += t;
        used[r] += Math.max(0, t - (node.available[r] ?? t));
      }
    }
    const sample: HistorySample = { timeMs: this.now(), aliveNodes: nodes.length, used, total };
    this.ring[this.next] = sample;
    this.next = (this.next + 1) % this.ring.length;
    this.count = Math.min(this.count + 1, this.ring.length);
    return sample;
  }

  snapshot(): HistoryReply {
    const n = this.ring.length;
    const samples: HistorySample[] = [];
    for (let i = 0; i < this.count; i++) samples.push(this.ring[(this.next - this.count + i + n) % n]!);
    return { intervalMs: this.options.intervalMs, capacity: n, samples };
  }
}

function zero(): Record<HistoryResource, number> {
  return { CPU: 0, GPU: 0, memory: 0, object_store_memory: 0 };
}
