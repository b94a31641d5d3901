-- Cluster identity: cluster_id, created_at_ms, version. Never rewritten once set.
CREATE TABLE cluster_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Every node that ever registered; dead ones are pruned beyond RAYTS_DEAD_NODES_KEPT.
CREATE TABLE nodes (
  node_id         TEXT PRIMARY KEY,
  node_ip         TEXT NOT NULL,
  raylet_port     INTEGER NOT NULL,
  hostname        TEXT NOT NULL DEFAULT '',
  is_head         INTEGER NOT NULL DEFAULT 0,
  state           TEXT NOT NULL CHECK (state IN ('NODE_ALIVE', 'NODE_DEAD')),
  resources_total TEXT NOT NULL,
  labels          TEXT NOT NULL,
  start_time_ms   INTEGER NOT NULL,
  death_time_ms   INTEGER,
  death_cause     TEXT,
  death_reason    TEXT,
  raylet_pid      INTEGER NOT NULL DEFAULT 0,
  session_name    TEXT NOT NULL DEFAULT '',
  version         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX nodes_by_state ON nodes (state, death_time_ms);

-- Internal key/value store (function table, packages, configuration).
CREATE TABLE kv (
  namespace TEXT NOT NULL,
  key       TEXT NOT NULL,
  value     BLOB NOT NULL,
  PRIMARY KEY (namespace, key)
);
