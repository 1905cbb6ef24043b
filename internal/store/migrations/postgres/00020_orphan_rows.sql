-- +goose Up
-- Roll-ups and state changes of monitors deleted with their device by
-- older versions (a device's deletion took its monitors through a foreign
-- key, and left their rows): daily roll-ups are kept for good, and a new
-- SQLite monitor may get a deleted one's id. DeleteDevice and
-- DeleteMonitor delete them now; raw results and hourly roll-ups go with
-- the prunes. The monitor ids of each table are walked by its key (a seek
-- an id), not the whole table read.
WITH RECURSIVE ids(id) AS (SELECT min(monitor_id) FROM rollups
    UNION ALL SELECT (SELECT min(monitor_id) FROM rollups WHERE monitor_id > ids.id) FROM ids WHERE ids.id IS NOT NULL)
DELETE FROM rollups WHERE monitor_id IN (SELECT id FROM ids WHERE id NOT IN (SELECT id FROM monitors));
WITH RECURSIVE ids(id) AS (SELECT min(monitor_id) FROM state_changes
    UNION ALL SELECT (SELECT min(monitor_id) FROM state_changes WHERE monitor_id > ids.id) FROM ids WHERE ids.id IS NOT NULL)
DELETE FROM state_changes WHERE monitor_id IN (SELECT id FROM ids WHERE id NOT IN (SELECT id FROM monitors));

-- +goose Down
-- Nothing to restore.
SELECT 1;
