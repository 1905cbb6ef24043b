PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE goose_db_version (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		version_id INTEGER NOT NULL,
		is_applied INTEGER NOT NULL,
		tstamp TIMESTAMP DEFAULT (datetime('now'))
	);
INSERT INTO goose_db_version VALUES(1,0,1,'2026-12-05 21:09:40');
INSERT INTO goose_db_version VALUES(2,1,1,'2026-12-05 21:09:40');
INSERT INTO goose_db_version VALUES(3,2,1,'2026-12-05 21:09:40');
INSERT INTO goose_db_version VALUES(4,3,1,'2026-12-05 21:09:40');
INSERT INTO goose_db_version VALUES(5,4,1,'2026-12-05 21:09:40');
INSERT INTO goose_db_version VALUES(6,5,1,'2026-12-05 21:09:40');
INSERT INTO goose_db_version VALUES(7,6,1,'2026-12-05 21:09:40');
INSERT INTO goose_db_version VALUES(8,7,1,'2026-12-05 21:09:40');
CREATE TABLE devices (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    address    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
INSERT INTO devices VALUES(1,'mail1','mail.example.com',1796504980245,1796504980245);
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
INSERT INTO monitors VALUES(1,1,'Ping','ping',1,'{"name":"Ping","type":"ping","tls":"none","timing":{"max_duration":"10s","up_every":"1m0s","down_every":"20s","lost_every":"5m0s"},"notify":{"failures_per_alert":3,"max_alerts":5}}','{}',1796504980246,1796504980246);
INSERT INTO monitors VALUES(2,1,'SMTP','smtp',1,'{"name":"SMTP","type":"smtp","port":25,"tls":"starttls","timing":{"max_duration":"10s","up_every":"1m0s","down_every":"20s","lost_every":"5m0s","warn_rtt":"2s"},"notify":{"failures_per_alert":3,"max_alerts":5,"alerts":["ops"]},"depends_on":["Ping"]}','{}',1796504980246,1796504980247);
INSERT INTO monitors VALUES(3,1,'IMAP login','imap',1,'{"name":"IMAP login","type":"imap","port":993,"tls":"implicit","user":"probe@example.com","timing":{"max_duration":"10s","up_every":"1m0s","down_every":"20s","lost_every":"5m0s"},"notify":{"failures_per_alert":3,"max_alerts":5,"alerts":["ops"]},"depends_on":["Ping"]}','{"password":"v1:amm5Bi7bbEEjiIGi3sRbhei7GZ3kfLaow9mL/8SdYYjpWBIp"}',1796504980246,1796504980247);
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    secrets    TEXT NOT NULL DEFAULT '{}',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
INSERT INTO alerts VALUES(1,'ops','email','{"name":"ops","email":{"to":["postmaster@example.com"],"relay":{"host":"smtp.example.com","port":587,"tls":"starttls","user":"alerts@example.com"}}}','{"relay.password":"v1:Mw8aIdXgA5f4+fSDUf68e5mMBhQZZVWmnsZOkD7rBzky6hXR"}',1796504980245,1796504980245);
CREATE TABLE monitor_alerts (
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    alert_id   INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    PRIMARY KEY (monitor_id, alert_id)
);
INSERT INTO monitor_alerts VALUES(2,1);
INSERT INTO monitor_alerts VALUES(3,1);
CREATE TABLE monitor_status (
    monitor_id  INTEGER PRIMARY KEY REFERENCES monitors(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    status      TEXT NOT NULL,           -- state.Status (JSON)
    last_result TEXT,                    -- the last probe.Result (JSON)
    last_ms     INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE results (
    monitor_id  INTEGER NOT NULL,
    t_ms        INTEGER NOT NULL,
    status      INTEGER NOT NULL,        -- 0 up, 1 warn, 2 down
    rtt_us      INTEGER NOT NULL,
    delivery_us INTEGER,
    code        TEXT,
    detail      TEXT, node TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT '',                    -- probe.Result JSON, failures only
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
, claim_until_ms INTEGER);
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    hash       TEXT NOT NULL UNIQUE,     -- SHA-256 of the token
    created_ms INTEGER NOT NULL,
    used_ms    INTEGER
);
INSERT INTO tokens VALUES(1,'fixture','7abf829b05755e6f20bd48499b7a54b67677d6252cca79aa03d8b9600a6d31d1',1796504980285,NULL);
CREATE TABLE rollups (
    monitor_id      INTEGER NOT NULL,
    period          TEXT NOT NULL,        -- hour, day
    start_ms        INTEGER NOT NULL,
    tests           INTEGER NOT NULL,
    up              INTEGER NOT NULL,
    warn            INTEGER NOT NULL,
    down            INTEGER NOT NULL,
    rtt_min_us      INTEGER NOT NULL,
    rtt_avg_us      INTEGER NOT NULL,
    rtt_p95_us      INTEGER NOT NULL,
    rtt_max_us      INTEGER NOT NULL,
    delivered       INTEGER NOT NULL,     -- tests with a delivery time
    delivery_avg_us INTEGER NOT NULL,
    delivery_p95_us INTEGER NOT NULL,
    delivery_max_us INTEGER NOT NULL,
    PRIMARY KEY (monitor_id, period, start_ms)
) WITHOUT ROWID;
CREATE TABLE credentials (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    spec       TEXT NOT NULL,              -- settings without secrets (JSON)
    secrets    TEXT NOT NULL DEFAULT '{}', -- name -> sealed value (JSON)
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE recovery_log (
    id          INTEGER PRIMARY KEY,
    monitor_id  INTEGER NOT NULL,
    t_ms        INTEGER NOT NULL,
    action      TEXT NOT NULL,
    status      TEXT NOT NULL,      -- ok, failed, not_run
    exit_code   INTEGER NOT NULL,   -- -1 when there is none
    output      TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    hash       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
INSERT INTO users VALUES(1,'admin','$2a$10$fOgsO1aEwan4n0ZE3QCxs.QN6vOSCiZ3xSRCMlBdjNMpEMAER0k3y',1796504980383,1796504980383);
CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,      -- the token forms and scripts send back
    created_ms INTEGER NOT NULL,
    seen_ms    INTEGER NOT NULL
);
CREATE TABLE nodes (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    location   TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE monitor_leases (
    monitor_id  INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    location    TEXT NOT NULL,
    node_id     TEXT,
    acquired_ms INTEGER,
    PRIMARY KEY (monitor_id, location)
);
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta VALUES('key_check','v1:6C8Qm8zpKb5rU/vqzqBFCiNY7baA8XSmPlfsjFvLcKVs5/3YAQZSlBvVr4xapKadKRsa/ug');
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('goose_db_version',8);
CREATE INDEX monitor_status_state ON monitor_status(state);
CREATE INDEX state_changes_monitor ON state_changes(monitor_id, t_ms);
CREATE INDEX alert_log_pending ON alert_log(status, id);
CREATE INDEX alert_log_monitor ON alert_log(monitor_id, id);
CREATE INDEX recovery_log_monitor ON recovery_log(monitor_id, id);
CREATE INDEX sessions_user ON sessions(user_id);
COMMIT;
