/**
 * Nodes this raylet found failing while the head still lists them alive. A node dies at once, but
 * the head declares it dead only after its health checker's failed probes (seconds); meanwhile a
 * call to it fails at once (a forwarded task, an object pull) and the cluster view still offers it.
 * Placement leaves the nodes listed here out, so a task's retry is not spent on a node already known
 * to be failing: soft affinity falls back at once, hard affinity waits for the head's verdict.
 *
 * A node leaves the list when the head's view no longer has it (declared dead, or gone) or when a
 * probe from here (`HealthCheck` naming the node, as the head's) answers again: a passing network
 * fault does not exclude a node for good. One probe per node at a time, at each cluster view.
 */
import type { Logger } from '@rayts/common';

/** Asks the raylet at `address` whether it is node `nodeId`; resolves when it answers as that node. */
export interface NodeProber {
  probe(address: string, nodeId: string): Promise<void>;
}

/** UNREACHABLE: calls to it fail; PROBING: a probe is on its way. */
type EntryState = 'UNREACHABLE' | 'PROBING';

interface Entry {
  address: string;
  state: EntryState;
  since: number;
}

export class UnreachableNodes {
  private readonly nodes = new Map<string, Entry>();

  constructor(private readonly prober: NodeProber, private readonly logger: Logger) {}

  /** A call to the node at `address` failed as if it were gone. */
  mark(nodeId: string, address: string, reason: string): void {
    if (this.nodes.has(nodeId)) return;
    this.nodes.set(nodeId, { address, state: 'UNREACHABLE', since: performance.now() });
    this.logger.warn('node unreachable from here: placing work elsewhere until the head declares it dead or it answers again', { nodeId, address, reason });
  }

  has(nodeId: string): boolean {
    return this.nodes.has(nodeId);
  }

  get size(): number {
    return this.nodes.size;
  }

  /**
   * The head's latest view (alive node id → raylet address, other nodes): forgets the nodes it no
   * longer lists and probes those it still does.
   */
  reconcile(alive: ReadonlyMap<string, string>): void {
    for (const [nodeId, entry] of this.nodes) {
      const address = alive.get(nodeId);
      if (address === undefined) {
        this.nodes.delete(nodeId);
        this.logger.info('the head no longer lists an unreachable node', { nodeId, afterMs: Math.round(performance.now() - entry.since) });
      } else if (entry.state === 'UNREACHABLE') {
        this.probe(nodeId, entry);
      }
    }
  }

  private probe(nodeId: string, entry: Entry): void {
    entry.state = 'PROBING';
    this.prober.probe(entry.address, nodeId).then(() => {
      if (this.nodes.get(nodeId) !== entry) return;
      this.nodes.delete(nodeId);
      this.logger.info('an unreachable node answers again', { nodeId, address: entry.address, afterMs: Math.round(performance.now() - entry.since) });
    }, () => {
      if (this.nodes.get(nodeId) === entry) entry.state = 'UNREACHABLE';
    });
  }
}
