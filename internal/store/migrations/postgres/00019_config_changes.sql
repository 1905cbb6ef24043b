-- +goose Up
-- How many times the monitors, the devices and the credentials were
-- written, kept by triggers in the writing transaction, whatever wrote
-- them (this daemon, another node, mailmon apply, a device's deletion
-- that takes its monitors): the engine's look for changes made behind
-- its back (every WatchEvery) reads this one row, and compares the
-- monitors one by one only when a count moved (engine/sync.go). A
-- monitor's board rank, written by its tests, is not a change.
--
-- Counted in the transaction, not by a sequence: a sequence moves before
-- its transaction commits, so a look could read the new count while the
-- change is not yet visible to it, and never look again. The row is
-- locked by a writing transaction until it ends, as board_counts' rows
-- already are by a monitor's insert or deletion.
--
-- A count moves once a transaction, however many rows it writes: the
-- looks need a committed change to move it, not how many rows changed.
-- Each count keeps the transaction that last moved it (its _tx), and a
-- transaction's later rows find it theirs and write nothing. Moved at
-- each row, a transaction of 1,000 monitors left 1,000 versions of this
-- row, each update walking them again (BenchmarkPutMonitors: +45 % a
-- monitor inserted, +75 % updated; an apply of 100,000 in one
-- transaction, quadratic).
CREATE TABLE config_changes (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    monitors       BIGINT NOT NULL,
    devices        BIGINT NOT NULL,
    credentials    BIGINT NOT NULL,
    monitors_tx    BIGINT NOT NULL,
    devices_tx     BIGINT NOT NULL,
    credentials_tx BIGINT NOT NULL
);
INSERT INTO config_changes VALUES (1, 0, 0, 0, 0, 0, 0);

-- +goose StatementBegin
CREATE FUNCTION config_changes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'monitors' THEN
        UPDATE config_changes SET monitors = monitors + 1, monitors_tx = txid_current()
            WHERE id = 1 AND monitors_tx <> txid_current();
    ELSIF TG_TABLE_NAME = 'devices' THEN
        UPDATE config_changes SET devices = devices + 1, devices_tx = txid_current()
            WHERE id = 1 AND devices_tx <> txid_current();
    ELSE
        UPDATE config_changes SET credentials = credentials + 1, credentials_tx = txid_current()
            WHERE id = 1 AND credentials_tx <> txid_current();
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD; -- a BEFORE trigger's row goes on as it was
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
-- A monitor's count moves BEFORE its row is written, so before
-- board_counts_keep (an AFTER trigger) takes its rank's count: every
-- transaction that writes the configuration takes config_changes first
-- (a device's or credential's write takes nothing else), then a rank's
-- count. After it, a monitor's insert held its rank's count and waited
-- for config_changes, which a transaction that had written a device (as
-- apply does) held while it waited for that count: a deadlock, which
-- PostgreSQL broke by failing one of them (TestConfigWritersDoNotDeadlock).
CREATE TRIGGER config_changes_monitor BEFORE INSERT OR DELETE ON monitors
    FOR EACH ROW EXECUTE FUNCTION config_changes_count();
CREATE TRIGGER config_changes_monitor_update BEFORE UPDATE ON monitors
    FOR EACH ROW WHEN (NEW.shown_rank IS NOT DISTINCT FROM OLD.shown_rank OR NEW.updated_ms IS DISTINCT FROM OLD.updated_ms)
    EXECUTE FUNCTION config_changes_count();
CREATE TRIGGER config_changes_device AFTER INSERT OR DELETE OR UPDATE ON devices
    FOR EACH ROW EXECUTE FUNCTION config_changes_count();
CREATE TRIGGER config_changes_credential AFTER INSERT OR DELETE OR UPDATE ON credentials
    FOR EACH ROW EXECUTE FUNCTION config_changes_count();

-- +goose Down
DROP TRIGGER config_changes_credential ON credentials;
DROP TRIGGER config_changes_device ON devices;
DROP TRIGGER config_changes_monitor_update ON monitors;
DROP TRIGGER config_changes_monitor ON monitors;
DROP FUNCTION config_changes_count();
DROP TABLE config_changes;
