-- +goose Up
-- The SQLite dialect of postgres/00006: a SQLite database has one node,
-- which tests every monitor, so nodes and leases stay empty; they exist so
-- that both dialects have the same schema. Results name the node and
-- location that produced them.
CREATE TABLE nodes (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    location   TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);

CREATE TABLE monitor_leases (
    monitor_id  INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    location    TEXT NOT NULL,
    node_id     TEXT,
    acquired_ms INTEGER,
    PRIMARY KEY (monitor_id, location)
);

ALTER TABLE results ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN location TEXT NOT NULL DEFAULT '';

ALTER TABLE alert_log ADD COLUMN claim_until_ms INTEGER;

-- +goose Down
ALTER TABLE alert_log DROP COLUMN claim_until_ms;
ALTER TABLE results DROP COLUMN location;
ALTER TABLE results DROP COLUMN node;
DROP TABLE monitor_leases;
DROP TABLE nodes;
