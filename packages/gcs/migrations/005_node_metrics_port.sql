-- The port of each raylet's Prometheus endpoint (0 = none), for the metrics service discovery file.
ALTER TABLE nodes ADD COLUMN metrics_export_port INTEGER NOT NULL DEFAULT 0;
