-- +goose Up
-- Maintenance begun by hand ("maintenance now") on one monitor or on all
-- of a device's monitors, until until_ms; ended early by deleting the row.
-- One a monitor or device: the newest.
CREATE TABLE maintenance_now (
    monitor_id INTEGER UNIQUE REFERENCES monitors(id) ON DELETE CASCADE,
    device_id  INTEGER UNIQUE REFERENCES devices(id) ON DELETE CASCADE,
    until_ms   INTEGER NOT NULL,
    by_name    TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    CHECK ((monitor_id IS NULL) <> (device_id IS NULL))
);

-- +goose Down
DROP TABLE maintenance_now;
