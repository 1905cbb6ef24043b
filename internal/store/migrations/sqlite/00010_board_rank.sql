-- +goose Up
-- The status board lists monitors worst first (Down, Lost, Warn, Up,
-- Maintenance, Pending, Disabled; by name within), a page at a time. The
-- rank of the state a monitor shows is kept beside its name, written when
-- its state or its enabled flag changes, so that a page of 20,000 monitors
-- is read from an index in order, without a join and a sort of them all.
ALTER TABLE monitors ADD COLUMN shown_rank INTEGER NOT NULL DEFAULT 5;
UPDATE monitors SET shown_rank = CASE WHEN NOT enabled THEN 6 ELSE coalesce((SELECT CASE s.state
    WHEN 'down' THEN 0 WHEN 'lost' THEN 1 WHEN 'warn' THEN 2 WHEN 'up' THEN 3 WHEN 'maintenance' THEN 4 WHEN 'disabled' THEN 6 ELSE 5 END
    FROM monitor_status s WHERE s.monitor_id = monitors.id), 5) END;
CREATE INDEX monitors_worst ON monitors(shown_rank, name, id);
CREATE INDEX monitors_device_worst ON monitors(device_id, shown_rank, name, id);

-- +goose Down
DROP INDEX monitors_device_worst;
DROP INDEX monitors_worst;
ALTER TABLE monitors DROP COLUMN shown_rank;
