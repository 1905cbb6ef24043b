-- +goose Up
-- A device's scheduled maintenance windows (JSON, as a monitor's are in its
-- spec; '' none): they cover every monitor of the device.
ALTER TABLE devices ADD COLUMN maintenance TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE devices DROP COLUMN maintenance;
