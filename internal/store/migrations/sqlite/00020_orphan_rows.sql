-- +goose Up
-- Roll-ups and state changes of monitors deleted with their device by
-- older versions (a device's deletion took its monitors through a foreign
-- key, and left their rows): daily roll-ups are kept for good, and a new
-- SQLite monitor may get a deleted one's id. Since 00020 DeleteDevice and
-- DeleteMonitor delete them; their raw results and hourly roll-ups go with
-- the prunes.
DELETE FROM rollups WHERE monitor_id NOT IN (SELECT id FROM monitors);
DELETE FROM state_changes WHERE monitor_id NOT IN (SELECT id FROM monitors);

-- +goose Down
-- Nothing to restore.
SELECT 1;
