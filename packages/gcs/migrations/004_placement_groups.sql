-- Placement groups (Ray's states) and where each bundle is reserved. Removed groups are kept for
-- history and pruned beyond RAYTS_REMOVED_PLACEMENT_GROUPS_KEPT.
CREATE TABLE placement_groups (
  placement_group_id TEXT PRIMARY KEY,
  name               TEXT NOT NULL DEFAULT '',
  strategy           TEXT NOT NULL CHECK (strategy IN ('PACK', 'SPREAD', 'STRICT_PACK', 'STRICT_SPREAD')),
  state              TEXT NOT NULL CHECK (state IN ('PENDING', 'PREPARED', 'CREATED', 'REMOVED', 'RESCHEDULING')),
  job_id             TEXT NOT NULL DEFAULT '',
  detached           INTEGER NOT NULL DEFAULT 0,
  created_at_ms      INTEGER NOT NULL,
  removed_at_ms      INTEGER
);
CREATE INDEX placement_groups_by_state ON placement_groups (state, removed_at_ms);

-- node_id: the node holding the bundle (NULL while unplaced; kept after removal so a restarted head
-- can make sure the node gave it back).
CREATE TABLE placement_group_bundles (
  placement_group_id TEXT NOT NULL REFERENCES placement_groups (placement_group_id) ON DELETE CASCADE,
  bundle_index       INTEGER NOT NULL,
  resources          TEXT NOT NULL,
  node_id            TEXT,
  PRIMARY KEY (placement_group_id, bundle_index)
);
