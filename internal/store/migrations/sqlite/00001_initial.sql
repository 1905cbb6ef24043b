-- +goose Up
-- Times are UTC Unix milliseconds; durations are microseconds.
CREATE TABLE devices (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    address    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

CREATE TABLE monitors (
    id         INTEGER PRIMARY KEY,
    device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    spec       TEXT NOT NULL,           -- settings without secrets (JSON)
    secrets    TEXT NOT NULL DEFAULT '{}', -- name -> sealed value (JSON)
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (device_id, name)
);

CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    secrets    TEXT NOT NULL DEFAULT '{}',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

CREATE TABLE monitor_alerts (
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    alert_id   INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    PRIMARY KEY (monitor_id, alert_id)
);

-- What the state machine keeps between tests; survives restarts.
CREATE TABLE monitor_status (
    monitor_id  INTEGER PRIMARY KEY REFERENCES monitors(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    status      TEXT NOT NULL,           -- state.Status (JSON)
    last_result TEXT,                    -- the last probe.Result (JSON)
    last_ms     INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX monitor_status_state ON monitor_status(state);

-- Raw results, kept for recent activity. Compact on purpose: the detail
-- (phases, transcript) is kept only for failed and warned tests.
CREATE TABLE results (
    monitor_id  INTEGER NOT NULL,
    t_ms        INTEGER NOT NULL,
    status      INTEGER NOT NULL,        -- 0 up, 1 warn, 2 down
    rtt_us      INTEGER NOT NULL,
    delivery_us INTEGER,
    code        TEXT,
    detail      TEXT,                    -- probe.Result JSON, failures only
    PRIMARY KEY (monitor_id, t_ms)
) WITHOUT ROWID;

CREATE TABLE state_changes (
    id         INTEGER PRIMARY KEY,
    monitor_id INTEGER NOT NULL,
    t_ms       INTEGER NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    cause      TEXT NOT NULL
);
CREATE INDEX state_changes_monitor ON state_changes(monitor_id, t_ms);

-- The outbox of notifications: written in the same transaction as the
-- state change that calls for them, delivered after, marked when done.
CREATE TABLE alert_log (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL UNIQUE,
    monitor_id INTEGER NOT NULL,
    alert_id   INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,            -- alert.Event (JSON)
    status     TEXT NOT NULL,            -- pending, sent, failed, held
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    done_ms    INTEGER
);
CREATE INDEX alert_log_pending ON alert_log(status, id);
CREATE INDEX alert_log_monitor ON alert_log(monitor_id, id);

CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    hash       TEXT NOT NULL UNIQUE,     -- SHA-256 of the token
    created_ms INTEGER NOT NULL,
    used_ms    INTEGER
);

-- +goose Down
DROP TABLE tokens;
DROP TABLE alert_log;
DROP TABLE state_changes;
DROP TABLE results;
DROP TABLE monitor_status;
DROP TABLE monitor_alerts;
DROP TABLE alerts;
DROP TABLE monitors;
DROP TABLE devices;
