/** The cluster's identity, created once and read on every head start afterwards. */
import { newClusterId, RAYTS_VERSION } from '@rayts/common';
import type { Db } from './storage/database.js';

export interface ClusterIdentity {
  clusterId: string;
  createdAtMs: number;
  /** rayts release that created the cluster. */
  version: string;
  /** True when this start created it (first start on this state dir). */
  created: boolean;
}

export function loadOrCreateIdentity(db: Db): ClusterIdentity {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM cluster_meta WHERE key = ?');
  const existing = get.get('cluster_id');
  if (existing) {
    return {
      clusterId: existing.value,
      createdAtMs: Number(get.get('created_at_ms')?.value ?? 0),
      version: get.get('version')?.value ?? '',
      created: false,
    };
  }
  const identity = { clusterId: newClusterId(), createdAtMs: Date.now(), version: RAYTS_VERSION, created: true };
  const put = db.prepare('INSERT INTO cluster_meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    put.run('cluster_id', identity.clusterId);
    put.run('created_at_ms', String(identity.createdAtMs));
    put.run('version', identity.version);
  })();
  return identity;
}
