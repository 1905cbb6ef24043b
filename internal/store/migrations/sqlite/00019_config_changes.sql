-- +goose Up
-- How many times the monitors, the devices and the credentials were
-- written, kept by triggers in the writing transaction, whatever wrote
-- them (this daemon, another node, mailmon apply, a device's deletion
-- that takes its monitors): the engine's look for changes made behind
-- its back (every WatchEvery) reads this one row, and compares the
-- monitors one by one only when a count moved (engine/sync.go). A
-- monitor's board rank, written by its tests, is not a change.
CREATE TABLE config_changes (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    monitors    INTEGER NOT NULL,
    devices     INTEGER NOT NULL,
    credentials INTEGER NOT NULL
);
INSERT INTO config_changes(id, monitors, devices, credentials) VALUES (1, 0, 0, 0);

-- +goose StatementBegin
CREATE TRIGGER config_changes_monitor_insert AFTER INSERT ON monitors BEGIN
    UPDATE config_changes SET monitors = monitors + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER config_changes_monitor_delete AFTER DELETE ON monitors BEGIN
    UPDATE config_changes SET monitors = monitors + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER config_changes_monitor_update AFTER UPDATE ON monitors
    WHEN NEW.shown_rank IS OLD.shown_rank OR NEW.updated_ms IS NOT OLD.updated_ms BEGIN
    UPDATE config_changes SET monitors = monitors + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER config_changes_device_insert AFTER INSERT ON devices BEGIN
    UPDATE config_changes SET devices = devices + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER config_changes_device_delete AFTER DELETE ON devices BEGIN
    UPDATE config_changes SET devices = devices + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER config_changes_device_update AFTER UPDATE ON devices BEGIN
    UPDATE config_changes SET devices = devices + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER config_changes_credential_insert AFTER INSERT ON credentials BEGIN
    UPDATE config_changes SET credentials = credentials + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER config_changes_credential_delete AFTER DELETE ON credentials BEGIN
    UPDATE config_changes SET credentials = credentials + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER config_changes_credential_update AFTER UPDATE ON credentials BEGIN
    UPDATE config_changes SET credentials = credentials + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER config_changes_credential_update;
DROP TRIGGER config_changes_credential_delete;
DROP TRIGGER config_changes_credential_insert;
DROP TRIGGER config_changes_device_update;
DROP TRIGGER config_changes_device_delete;
DROP TRIGGER config_changes_device_insert;
DROP TRIGGER config_changes_monitor_update;
DROP TRIGGER config_changes_monitor_delete;
DROP TRIGGER config_changes_monitor_insert;
DROP TABLE config_changes;
