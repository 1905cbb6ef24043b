-- +goose Up
-- An acknowledgement of a monitor's outage (since_ms: its start): no more
-- alerts for it; the recovery still notifies. One a monitor: the newest.
CREATE TABLE acks (
    monitor_id INTEGER PRIMARY KEY REFERENCES monitors(id) ON DELETE CASCADE,
    since_ms   INTEGER NOT NULL,
    by_name    TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    comment    TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE acks;
