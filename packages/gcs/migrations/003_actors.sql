-- One row per actor. The record (spec, address, restarts, death) is a v8-serialized blob; the columns
-- beside it are what the head looks actors up by.
CREATE TABLE actors (
  actor_id    TEXT PRIMARY KEY,
  job_id      TEXT NOT NULL,
  name        TEXT NOT NULL DEFAULT '',
  namespace   TEXT NOT NULL DEFAULT '',
  detached    INTEGER NOT NULL DEFAULT 0,
  state       TEXT NOT NULL CHECK (state IN ('DEPENDENCIES_UNREADY', 'PENDING_CREATION', 'ALIVE', 'RESTARTING', 'DEAD')),
  updated_ms  INTEGER NOT NULL,
  record      BLOB NOT NULL
);
-- A name is unique among the actors of a namespace that are not DEAD.
CREATE UNIQUE INDEX actors_live_name ON actors (namespace, name) WHERE name != '' AND state != 'DEAD';
CREATE INDEX actors_state ON actors (state, updated_ms);
