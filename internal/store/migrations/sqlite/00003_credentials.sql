-- +goose Up
-- Named credentials (user, password or key, known host key) used by
-- recovery actions over SSH. The secrets are sealed by the vault.
CREATE TABLE credentials (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    spec       TEXT NOT NULL,              -- settings without secrets (JSON)
    secrets    TEXT NOT NULL DEFAULT '{}', -- name -> sealed value (JSON)
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- +goose Down
DROP TABLE credentials;
