-- +goose Up
-- Values of the database as a whole, by name: the storage key's verifier
-- ("key_check", a value sealed under it), the record of a key rotation.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE meta;
