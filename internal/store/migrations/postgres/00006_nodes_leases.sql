-- +goose Up
-- Several nodes on one database: each node heartbeats in nodes; a monitor
-- is tested by the node holding its lease, which is valid while that node's
-- heartbeat is (expires_ms in the database's clock). location is '' for a
-- monitor any node may test, or a node location for monitors that ask for
-- K-of-N locations (one lease per location). Results name the node and
-- location that produced them. A notification being delivered is claimed
-- by a node until claim_until_ms, so two nodes never send the same one.
CREATE TABLE nodes (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    location   TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);

CREATE TABLE monitor_leases (
    monitor_id  BIGINT NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    location    TEXT NOT NULL,
    node_id     TEXT,                 -- NULL: free
    acquired_ms BIGINT,
    PRIMARY KEY (monitor_id, location)
);
CREATE INDEX monitor_leases_node ON monitor_leases(node_id);

ALTER TABLE results ADD COLUMN node TEXT NOT NULL DEFAULT '',
                    ADD COLUMN location TEXT NOT NULL DEFAULT '';
ALTER TABLE results DROP CONSTRAINT results_pkey;
ALTER TABLE results ADD PRIMARY KEY (monitor_id, t_ms, location);

ALTER TABLE alert_log ADD COLUMN claim_until_ms BIGINT;

-- +goose Down
ALTER TABLE alert_log DROP COLUMN claim_until_ms;
ALTER TABLE results DROP CONSTRAINT results_pkey;
DELETE FROM results a USING results b WHERE a.monitor_id = b.monitor_id AND a.t_ms = b.t_ms AND a.location > b.location;
ALTER TABLE results DROP COLUMN node, DROP COLUMN location;
ALTER TABLE results ADD PRIMARY KEY (monitor_id, t_ms);
DROP TABLE monitor_leases;
DROP TABLE nodes;
