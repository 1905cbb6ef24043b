-- +goose Up
-- The SQLite dialect of postgres/00021 (one node: no claims, the column
-- stays unused, kept for the same schema): when a node began to send a
-- notification; a pending row claimed by an older version counts as begun
-- (its claim's end stands for the time).
ALTER TABLE alert_log ADD COLUMN begun_ms INTEGER;
UPDATE alert_log SET begun_ms = claim_until_ms WHERE status = 'pending' AND claim_until_ms IS NOT NULL;

-- +goose Down
ALTER TABLE alert_log DROP COLUMN begun_ms;
