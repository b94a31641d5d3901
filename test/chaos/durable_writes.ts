/**
 * The writer of the durability test: five streams of writes to the head (node registration, actor
 * creation, placement group creation, kv put, job record), each one write at a time, each write
 * tried again until the head acknowledges it. Only acknowledged writes are counted; a write whose
 * answer was lost to a kill is tried again with the same id (the head handles these idempotently),
 * except job records, which get a new id per attempt (an unacknowledged one may survive too).
 */
import { randomBytes } from 'node:crypto';
import {
  GcsActorClient, GcsClient, PROTOCOL_VERSION, newNodeId, newPlacementGroupId, type ClientOptions,
} from '@rayts/common';

export const WRITE_KINDS = ['node', 'actor', 'placementGroup', 'kv', 'job'] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];
export const KV_NAMESPACE = 'durability';
/** Nothing on the test's nodes offers it: actors and groups stay pending, so writing them costs no resources. */
const NOWHERE = { unobtainium: 1 };

export class DurableWrites {
  readonly acked: Record<WriteKind, Set<string>> = { node: new Set(), actor: new Set(), placementGroup: new Set(), kv: new Set(), job: new Set() };
  /** Attempts that failed (the head was down, or died with the write in flight). */
  failedAttempts = 0;
  private readonly gcs: GcsClient;
  private readonly actors: GcsActorClient;
  private stopped = false;

  constructor(address: string, options: ClientOptions, private readonly jobId: string) {
    this.gcs = new GcsClient(address, options);
    this.actors = new GcsActorClient(address, options);
  }

  get total(): number {
    return WRITE_KINDS.reduce((n, k) => n + this.acked[k].size, 0);
  }

  /** Writes `perKind` acknowledged records of every kind, the kinds at once. */
  run(perKind: number): Promise<void> {
    return Promise.all(WRITE_KINDS.map((kind) => this.stream(kind, perKind))).then(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    this.gcs.close();
    this.actors.close();
  }

  private async stream(kind: WriteKind, count: number): Promise<void> {
    for (let i = 0; i < count && !this.stopped; i++) {
      const id = this.idFor(kind, i);
      for (;;) {
        if (this.stopped) return;
        try {
          this.acked[kind].add(await this.write(kind, id));
          break;
        } catch {
          this.failedAttempts += 1;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  }

  private idFor(kind: WriteKind, i: number): string {
    switch (kind) {
      case 'node': return newNodeId();
      case 'actor': return randomBytes(16).toString('hex');
      case 'placementGroup': return newPlacementGroupId();
      case 'kv': return `key-${i}`;
      case 'job': return '';
    }
  }

  /** One attempt; resolves with the id the head acknowledged. */
  private async write(kind: WriteKind, id: string): Promise<string> {
    switch (kind) {
      case 'node':
        await this.gcs.registerNode({
          protocolVersion: PROTOCOL_VERSION, clusterId: '', metricsExportPort: 0,
          node: {
            nodeId: id, nodeIp: '127.0.0.9', rayletPort: 1, hostname: 'durability-test', isHead: false, resourcesTotal: {}, labels: {},
            startTimeMs: Date.now(), rayletPid: 0, sessionName: '', version: '', nodeVersion: '',
          },
        });
        return id;
      case 'actor':
        await this.actors.registerActor({
          actorId: id, jobId: this.jobId, className: 'Durable', classHash: 'durable', methodNames: [], args: [], name: '', namespace: '',
          detached: true, maxRestarts: 0, maxTaskRetries: 0, maxConcurrency: 1, maxPendingCalls: -1, placementResources: NOWHERE,
          heldResources: NOWHERE, strategy: { kind: 'DEFAULT' }, ownerNodeId: '', ownerClientId: 'durability-test', jobDir: '',
          driverNodeId: '', reservedNodeId: '',
        });
        return id;
      case 'placementGroup':
        await this.gcs.createPlacementGroup({ placementGroupId: id, name: '', strategy: 'PACK', bundles: [{ resources: NOWHERE }], jobId: this.jobId, detached: true });
        return id;
      case 'kv':
        await this.gcs.kvPut(KV_NAMESPACE, id, Buffer.from(`value of ${id}`), true);
        return id;
      case 'job':
        return this.gcs.registerJob({ nodeId: '', driverPid: process.pid, entrypoint: 'durability test', jobDir: '', submissionId: '', runtimeEnvJson: '' });
    }
  }
}
