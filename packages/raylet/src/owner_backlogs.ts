/**
 * Tasks owners hold back while they wait for a leased worker (Ray's worker backlog): an owner with
 * more tasks of a kind queued than it has lease requests here says how many more, so that `rayts
 * status` and the head's demands show every task waiting for this node, not only the requests. The
 * latest report per owner and kind stands; an owner that leaves takes its reports with it.
 */
import type { ResourceMap } from '@rayts/common';
import type { ResourceDemand } from './protocol.js';
import { shapeKey } from './resource_accounting.js';

interface Backlog {
  shape: ResourceMap;
  size: number;
}

export class OwnerBacklogs {
  /** By owner (client id), then by the owner's scheduling key. */
  private readonly byOwner = new Map<string, Map<string, Backlog>>();

  report(owner: string, key: string, shape: ResourceMap, size: number): void {
    let reports = this.byOwner.get(owner);
    if (size <= 0) {
      reports?.delete(key);
      if (reports?.size === 0) this.byOwner.delete(owner);
      return;
    }
    if (!reports) this.byOwner.set(owner, (reports = new Map()));
    reports.set(key, { shape, size });
  }

  dropOwner(owner: string): void {
    this.byOwner.delete(owner);
  }

  /** Adds the backlogs to demands by shape (`byShape` keyed by shapeKey, as the scheduling queues make them). */
  addTo(byShape: Map<string, ResourceDemand>): void {
    for (const reports of this.byOwner.values()) {
      for (const { shape, size } of reports.values()) {
        const key = shapeKey(shape);
        const d = byShape.get(key);
        if (d) d.count = (d.count ?? 0) + size;
        else byShape.set(key, { shape, count: size, kind: 'task', strategy: '', infeasible: false });
      }
    }
  }
}
