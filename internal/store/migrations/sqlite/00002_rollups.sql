-- +goose Up
-- Hourly and daily roll-ups of raw results, kept long after the raw results
-- are gone. Durations in microseconds.
CREATE TABLE rollups (
    monitor_id      INTEGER NOT NULL,
    period          TEXT NOT NULL,        -- hour, day
    start_ms        INTEGER NOT NULL,
    tests           INTEGER NOT NULL,
    up              INTEGER NOT NULL,
    warn            INTEGER NOT NULL,
    down            INTEGER NOT NULL,
    rtt_min_us      INTEGER NOT NULL,
    rtt_avg_us      INTEGER NOT NULL,
    rtt_p95_us      INTEGER NOT NULL,
    rtt_max_us      INTEGER NOT NULL,
    delivered       INTEGER NOT NULL,     -- tests with a delivery time
    delivery_avg_us INTEGER NOT NULL,
    delivery_p95_us INTEGER NOT NULL,
    delivery_max_us INTEGER NOT NULL,
    PRIMARY KEY (monitor_id, period, start_ms)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE rollups;
