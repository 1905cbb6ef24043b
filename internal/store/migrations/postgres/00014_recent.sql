-- +goose Up
-- A monitor's last 40 results, oldest first, in fixed-size entries
-- (sqlstore/recent.go), written with its status: the board's bars in the
-- statuses' query. NULL until filled from the results (on open).
ALTER TABLE monitor_status ADD COLUMN recent bytea;

-- +goose Down
ALTER TABLE monitor_status DROP COLUMN recent;
