-- +goose Up
-- A team's mailmon (docs/teams.md): a user's role, its second factor
-- (a TOTP secret sealed with the storage key, in secrets as the other tables' so that a key rotation reseals it, the last time step used, the
-- recovery codes' hashes) and, for a login made by single sign-on, the
-- identity provider's subject; a token's scopes and expiry; the audit log.
-- Users and tokens from before this version keep what they could do: every
-- user is an admin, every token has every scope.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE users ADD COLUMN secrets TEXT NOT NULL DEFAULT '{}';  -- {"totp": sealed}
ALTER TABLE users ADD COLUMN totp_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN recovery_codes TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN external TEXT NOT NULL DEFAULT '';

ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,write,probe,metrics';
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER;

-- Who changed what, when and from where; settings before and after
-- (changes: JSON), secrets only said to have changed.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    t_ms       INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,  -- user, token, operator
    actor      TEXT NOT NULL,
    address    TEXT NOT NULL,
    kind       TEXT NOT NULL,  -- device, monitor, alert, credential, user, token
    object_id  INTEGER NOT NULL,
    name       TEXT NOT NULL,
    action     TEXT NOT NULL,  -- created, updated, deleted
    changes    TEXT NOT NULL
);
CREATE INDEX audit_time ON audit(t_ms);
CREATE INDEX audit_object ON audit(kind, object_id);

-- +goose Down
DROP TABLE audit;
ALTER TABLE tokens DROP COLUMN expires_ms;
ALTER TABLE tokens DROP COLUMN scopes;
ALTER TABLE users DROP COLUMN external;
ALTER TABLE users DROP COLUMN recovery_codes;
ALTER TABLE users DROP COLUMN totp_step;
ALTER TABLE users DROP COLUMN secrets;
ALTER TABLE users DROP COLUMN role;
