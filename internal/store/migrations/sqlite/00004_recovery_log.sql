-- +goose Up
-- Corrective actions run when monitors went Down: what ran, how it ended,
-- and what it printed.
CREATE TABLE recovery_log (
    id          INTEGER PRIMARY KEY,
    monitor_id  INTEGER NOT NULL,
    t_ms        INTEGER NOT NULL,
    action      TEXT NOT NULL,
    status      TEXT NOT NULL,      -- ok, failed, not_run
    exit_code   INTEGER NOT NULL,   -- -1 when there is none
    output      TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX recovery_log_monitor ON recovery_log(monitor_id, id);

-- +goose Down
DROP TABLE recovery_log;
