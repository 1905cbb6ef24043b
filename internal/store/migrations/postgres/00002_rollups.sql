-- +goose Up
-- Hourly and daily roll-ups of raw results. Durations in microseconds.
CREATE TABLE rollups (
    monitor_id      BIGINT NOT NULL,
    period          TEXT NOT NULL,        -- hour, day
    start_ms        BIGINT NOT NULL,
    tests           BIGINT NOT NULL,
    up              BIGINT NOT NULL,
    warn            BIGINT NOT NULL,
    down            BIGINT NOT NULL,
    rtt_min_us      BIGINT NOT NULL,
    rtt_avg_us      BIGINT NOT NULL,
    rtt_p95_us      BIGINT NOT NULL,
    rtt_max_us      BIGINT NOT NULL,
    delivered       BIGINT NOT NULL,
    delivery_avg_us BIGINT NOT NULL,
    delivery_p95_us BIGINT NOT NULL,
    delivery_max_us BIGINT NOT NULL,
    PRIMARY KEY (monitor_id, period, start_ms)
);

-- +goose Down
DROP TABLE rollups;
