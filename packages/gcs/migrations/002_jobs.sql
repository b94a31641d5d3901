-- One row per driver (job). job_id is the rowid shown as 8 hex digits.
CREATE TABLE jobs (
  job_id        INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id       TEXT NOT NULL,
  driver_pid    INTEGER NOT NULL,
  entrypoint    TEXT NOT NULL DEFAULT '',
  job_dir       TEXT NOT NULL DEFAULT '',
  start_time_ms INTEGER NOT NULL,
  end_time_ms   INTEGER,
  state         TEXT NOT NULL CHECK (state IN ('RUNNING', 'FINISHED'))
);
