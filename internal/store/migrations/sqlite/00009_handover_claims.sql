-- +goose Up
-- The SQLite dialect of postgres/00009 (one node: these stay unused, kept
-- for the same schema). A node that stops gracefully says so (leaving)
-- while it hands its leases over; a notification's claim names its node.
ALTER TABLE nodes ADD COLUMN leaving INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_log ADD COLUMN claimed_by TEXT;

-- +goose Down
ALTER TABLE alert_log DROP COLUMN claimed_by;
ALTER TABLE nodes DROP COLUMN leaving;
