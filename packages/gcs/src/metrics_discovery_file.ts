/**
 * Prometheus service discovery for the cluster (Ray's `prom_metrics_service_discovery.json`): a
 * file_sd JSON file listing the metrics endpoint of every alive raylet, plus static targets (the
 * head's own /metrics), rewritten whenever a node joins or dies. Prometheus re-reads the file on
 * change (`file_sd_configs`). Writes are atomic (temp file + rename), so Prometheus never reads half
 * a file; a write that fails is logged and the head goes on (the next change writes again).
 *
 *   [{ "targets": ["10.0.0.2:9101", …], "labels": { "component": "raylet", "__scheme__": "https" } }, …]
 */
import { dirname, join } from 'node:path';
import { formatAddress, writeJson, type Logger } from '@rayts/common';
import type { NodeRecord } from './storage/node_table.js';

export const METRICS_DISCOVERY_FILE = 'prom_metrics_service_discovery.json';

/** `<temp dir>/prom_metrics_service_discovery.json`, the temp dir being the session dir's parent. */
export function metricsDiscoveryPath(sessionDir: string): string {
  return join(dirname(sessionDir), METRICS_DISCOVERY_FILE);
}

/** One group of a file_sd file. */
export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** A target listed whatever the membership (`host:port` of a /metrics endpoint). */
export interface MetricsTarget {
  target: string;
  labels: Record<string, string>;
}

/** What the file follows of the membership (NodeManager's events and list). */
export interface DiscoveryMembership {
  alive(): { record: NodeRecord }[];
  on(event: 'nodeAdded' | 'nodeDead', listener: (record: NodeRecord) => void): unknown;
  off(event: 'nodeAdded' | 'nodeDead', listener: (record: NodeRecord) => void): unknown;
}

export interface MetricsDiscoveryOptions {
  nodes: DiscoveryMembership;
  path: string;
  extraTargets: MetricsTarget[];
  /** The endpoints serve HTTPS (the cluster has TLS): the file sets `__scheme__`. */
  tls: boolean;
  logger: Logger;
}

export class MetricsDiscoveryFile {
  private readonly onChange = () => this.write();
  private started = false;

  constructor(private readonly options: MetricsDiscoveryOptions) {}

  /** Writes the file for the current membership and follows it. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.options.nodes.on('nodeAdded', this.onChange);
    this.options.nodes.on('nodeDead', this.onChange);
    this.write();
  }

  /** Stops following; the file is left listing only the static targets (the raylets stop with the cluster). */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.options.nodes.off('nodeAdded', this.onChange);
    this.options.nodes.off('nodeDead', this.onChange);
    this.write([]);
  }

  /** The groups the file holds now: the alive raylets that serve metrics, then the static targets. */
  groups(raylets = this.rayletTargets()): FileSdGroup[] {
    const scheme: Record<string, string> = this.options.tls ? { __scheme__: 'https' } : {};
    const groups: FileSdGroup[] = [];
    if (raylets.length > 0) groups.push({ targets: raylets, labels: { component: 'raylet', ...scheme } });
    for (const t of this.options.extraTargets) groups.push({ targets: [t.target], labels: { ...scheme, ...t.labels } });
    return groups;
  }

  private rayletTargets(): string[] {
    return this.options.nodes.alive()
      .filter((n) => n.record.metricsExportPort > 0)
      .map((n) => formatAddress(n.record.nodeIp, n.record.metricsExportPort))
      .sort();
  }

  private write(raylets?: string[]): void {
    try {
      writeJson(this.options.path, this.groups(raylets));
    } catch (err) {
      this.options.logger.warn('could not write the Prometheus service discovery file', { path: this.options.path, error: (err as Error).message });
    }
  }
}
