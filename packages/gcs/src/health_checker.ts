/**
 * Probes every live raylet over gRPC (Ray's settings, "borrowed from k8s probes"): first probe after
 * the initial delay, then one per period, each with a deadline; after `threshold` consecutive failures
 * the node is declared DEAD (on a full state disk, once the death can be written). Only monotonic time
 * is used, so wall-clock jumps cause no false deaths.
 */
import { formatAddress, type Config, type Logger, type RayletClient } from '@rayts/common';
import type { NodeManager } from './node_manager.js';
import type { DeferredWrites } from './storage/deferred_writes.js';

interface Probe {
  client: Pick<RayletClient, 'healthCheck'>;
  failures: number;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

export class HealthChecker {
  private readonly probes = new Map<string, Probe>();

  constructor(
    private readonly nodes: NodeManager,
    private readonly config: Pick<Config, 'healthCheckInitialDelayMs' | 'healthCheckPeriodMs' | 'healthCheckTimeoutMs' | 'healthCheckFailureThreshold'>,
    /** The head's raylet clients (one per address; the head drops a dead node's). */
    private readonly raylets: { get(address: string): Pick<RayletClient, 'healthCheck'> },
    private readonly logger: Logger,
    /** A death the full state disk keeps from being written is kept and written once there is room. */
    private readonly writes: DeferredWrites,
  ) {
    nodes.on('nodeAdded', (record) => this.watch(record.nodeId));
    nodes.on('nodeDead', (record) => this.unwatch(record.nodeId));
  }

  /** Starts probing every node currently alive (at head start: the ones loaded from SQLite). */
  start(): void {
    for (const node of this.nodes.alive()) this.watch(node.record.nodeId);
  }

  stop(): void {
    for (const id of [...this.probes.keys()]) this.unwatch(id);
  }

  private watch(nodeId: string): void {
    const node = this.nodes.get(nodeId);
    if (!node || this.probes.has(nodeId)) return;
    const address = formatAddress(node.record.nodeIp, node.record.rayletPort);
    const probe: Probe = { client: this.raylets.get(address), failures: 0, stopped: false };
    this.probes.set(nodeId, probe);
    probe.timer = setTimeout(() => void this.probeLoop(nodeId, probe), this.config.healthCheckInitialDelayMs);
  }

  private unwatch(nodeId: string): void {
    const probe = this.probes.get(nodeId);
    if (!probe) return;
    probe.stopped = true;
    clearTimeout(probe.timer);
    this.probes.delete(nodeId);
  }

  private async probeLoop(nodeId: string, probe: Probe): Promise<void> {
    if (probe.stopped) return;
    const started = performance.now();
    try {
      await probe.client.healthCheck(nodeId, this.config.healthCheckTimeoutMs);
      if (probe.failures > 0) this.logger.info('health check recovered', { nodeId, failures: probe.failures });
      probe.failures = 0;
      this.nodes.touch(nodeId);
    } catch (err) {
      probe.failures += 1;
      this.logger.warn('health check failed', { nodeId, failures: probe.failures, error: (err as Error).message });
      if (probe.failures >= this.config.healthCheckFailureThreshold) {
        const reason = `health check failed ${probe.failures} times in a row (${(err as Error).message})`;
        this.writes.run(`that node ${nodeId} is DEAD (its health checks failed)`, () => this.nodes.markDead(nodeId, 'NODE_DEATH_HEALTH_CHECK_FAILED', reason));
        return;
      }
    }
    if (probe.stopped) return;
    const elapsed = performance.now() - started;
    probe.timer = setTimeout(() => void this.probeLoop(nodeId, probe), Math.max(0, this.config.healthCheckPeriodMs - elapsed));
  }
}
