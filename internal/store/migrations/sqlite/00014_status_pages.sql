-- +goose Up
-- Status pages (docs/status-pages.md): the monitors and devices each
-- shows, by name (spec, JSON), and whether it needs a login.
CREATE TABLE status_pages (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    public     INTEGER NOT NULL,
    spec       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- +goose Down
DROP TABLE status_pages;
