// Package migrations holds the database schema, embedded in the binary and
// applied on start by every backend. Each backend has its own dialect of
// the same migrations: one directory per backend, the same version numbers
// in each (TestSameVersions checks).
package migrations

import "embed"

// SQLite holds the goose migrations of the SQLite backend, in sqlite/.
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Postgres holds the goose migrations of the PostgreSQL backend, in
// postgres/.
//
//go:embed postgres/*.sql
var Postgres embed.FS
