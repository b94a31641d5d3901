-- Submitted jobs (rayts job submit / POST /api/jobs/): one row per submission id, with where its
-- driver runs and how it ended. A driver that calls init() for a submission links to it from jobs.
CREATE TABLE job_submissions (
  seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
  submission_id        TEXT NOT NULL UNIQUE,
  entrypoint           TEXT NOT NULL,
  runtime_env          TEXT NOT NULL DEFAULT '',
  metadata             TEXT NOT NULL DEFAULT '{}',
  entrypoint_num_cpus  REAL NOT NULL DEFAULT 0,
  entrypoint_num_gpus  REAL NOT NULL DEFAULT 0,
  entrypoint_memory    REAL NOT NULL DEFAULT 0,
  entrypoint_resources TEXT NOT NULL DEFAULT '{}',
  status               TEXT NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'STOPPED', 'SUCCEEDED', 'FAILED')),
  message              TEXT NOT NULL DEFAULT '',
  error_type           TEXT,
  start_time_ms        INTEGER NOT NULL,
  end_time_ms          INTEGER,
  driver_node_id       TEXT,
  driver_pid           INTEGER,
  driver_exit_code     INTEGER,
  stop_requested       INTEGER NOT NULL DEFAULT 0
);
ALTER TABLE jobs ADD COLUMN submission_id TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN runtime_env TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_submission ON jobs (submission_id) WHERE submission_id != '';
