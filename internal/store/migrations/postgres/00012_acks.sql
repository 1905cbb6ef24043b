-- +goose Up
-- An acknowledgement of a monitor's outage (since_ms: its start): no more
-- alerts for it; the recovery still notifies. One a monitor: the newest.
CREATE TABLE acks (
    monitor_id BIGINT PRIMARY KEY REFERENCES monitors(id) ON DELETE CASCADE,
    since_ms   BIGINT NOT NULL,
    by_name    TEXT NOT NULL,
    at_ms      BIGINT NOT NULL,
    comment    TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE acks;
